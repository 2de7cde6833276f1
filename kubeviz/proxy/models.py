"""kube-proxy's node state: the rules it last programmed on one node.

On a real node these live in the kernel (netfilter tables or the IPVS table); here they are
one row per node, written only by that node's kube-proxy sync.  ``services`` is the same rule
set in a structured form, which the explorer's packet traces follow.
"""

from __future__ import annotations

from django.db import models


class ProxyRules(models.Model):
    cluster = models.CharField(max_length=63, db_index=True)
    node = models.CharField(max_length=63)
    mode = models.CharField(max_length=8)
    #: ``iptables-save`` output (iptables mode) or ``ipvsadm -Ln`` output (IPVS mode).
    text = models.TextField()
    #: What kube-proxy handed to ``iptables-restore`` (iptables mode only).
    restore = models.TextField(blank=True)
    services = models.JSONField(default=list)
    #: The resourceVersion of the newest object the rules were computed from.
    revision = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField()
    sync_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "node"], name="proxy_rules_node")]
