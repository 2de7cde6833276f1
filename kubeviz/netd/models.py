"""The Network Daemon's node state: the routes (and devices) it programmed on one node.

On a real node these are the kernel's routing table and link devices; here one row per node,
written only by that node's flanneld, calico-felix or cilium-agent.
"""

from __future__ import annotations

from django.db import models


class NodeRoutes(models.Model):
    cluster = models.CharField(max_length=63, db_index=True)
    node = models.CharField(max_length=63)
    daemon = models.CharField(max_length=32)
    cni = models.CharField(max_length=16)
    #: One dict per route: dst, via, dev, proto, src, onlink, mtu and the ``ip route`` text.
    routes = models.JSONField(default=list)
    #: The node's devices of the flavour, with their addresses.
    devices = models.JSONField(default=list)
    #: ``vxlan`` (flannel, cilium) or ``ipip`` (calico's BGP-learned routes over tunl0).
    encapsulation = models.CharField(max_length=16)
    pod_cidr = models.CharField(max_length=43, blank=True)
    revision = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField()
    sync_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "node"], name="netd_routes_node")]
