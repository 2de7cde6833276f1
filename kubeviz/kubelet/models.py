"""The kubelet's node state: what a real node keeps on its own disk and in its runtime.

containerd's metadata (sandboxes, containers, the image store), the CNI plugin's host-local
IP allocations and the kubelet's own memory of its node.  Only the kubelet of that node writes
these rows (DESIGN.md rule 2); the cluster sees them only through what the kubelet reports to
the apiserver, and the explorer shows them read-only.  Times are epoch seconds (floats),
because the runtime compares them with the clock it is given.
"""

from __future__ import annotations

from django.db import models


class NodeAgent(models.Model):
    """The kubelet's memory of its node: the boot it runs in and what it registered."""

    cluster = models.CharField(max_length=63)
    node = models.CharField(max_length=63)
    boot_id = models.CharField(max_length=36, blank=True)
    registered = models.BooleanField(default=False)
    pod_cidr = models.CharField(max_length=43, blank=True)
    status_reported_at = models.FloatField(default=0.0)
    status_digest = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "node"], name="kubelet_node_agent")]


class Image(models.Model):
    """An image in the node's store; ``pulled_at`` in the future means a pull in progress."""

    cluster = models.CharField(max_length=63)
    node = models.CharField(max_length=63)
    name = models.CharField(max_length=512)
    digest = models.CharField(max_length=71)
    size = models.BigIntegerField()
    pull_started_at = models.FloatField()
    pulled_at = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "node", "name"], name="kubelet_image")]


class Sandbox(models.Model):
    """A pod sandbox (the pause container and its network namespace)."""

    READY = "SANDBOX_READY"
    NOTREADY = "SANDBOX_NOTREADY"

    cluster = models.CharField(max_length=63)
    node = models.CharField(max_length=63)
    sandbox_id = models.CharField(max_length=64)
    pod_uid = models.CharField(max_length=36)
    namespace = models.CharField(max_length=63)
    pod = models.CharField(max_length=253)
    attempt = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, default=READY)
    host_network = models.BooleanField(default=False)
    ip = models.CharField(max_length=45, blank=True)
    interface = models.CharField(max_length=32, blank=True)
    created_at = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "node", "sandbox_id"], name="kubelet_sandbox")
        ]
        indexes = [models.Index(fields=["cluster", "node", "namespace", "pod"], name="kubelet_sandbox_pod")]


class Container(models.Model):
    """One container of a sandbox, one row per attempt (restarts make new rows)."""

    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"

    sandbox = models.ForeignKey(Sandbox, on_delete=models.CASCADE, related_name="containers")
    container_id = models.CharField(max_length=64)
    name = models.CharField(max_length=63)
    image = models.CharField(max_length=512)
    image_id = models.CharField(max_length=600, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=20, default=CREATED)
    created_at = models.FloatField()
    started_at = models.FloatField(null=True)
    #: When the container ends on its own (from its behaviour); None: it runs until stopped.
    exits_at = models.FloatField(null=True)
    planned_exit_code = models.IntegerField(default=0)
    planned_reason = models.CharField(max_length=32, blank=True)
    #: When a stop was asked for (StopContainer) and when it must be killed.
    stop_requested_at = models.FloatField(null=True)
    kill_at = models.FloatField(null=True)
    finished_at = models.FloatField(null=True)
    exit_code = models.IntegerField(null=True)
    reason = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)
    #: What the container printed: ``[[epoch seconds, line], ...]``.
    log = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sandbox", "container_id"], name="kubelet_container"),
        ]
        ordering = ["sandbox_id", "name", "attempt"]


class IPAllocation(models.Model):
    """One address the CNI's host-local IPAM handed out (``/var/lib/cni/networks``)."""

    cluster = models.CharField(max_length=63)
    node = models.CharField(max_length=63)
    ip = models.CharField(max_length=45)
    sandbox_id = models.CharField(max_length=64)
    interface = models.CharField(max_length=32)
    allocated_at = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "node", "ip"], name="kubelet_ip_allocation")
        ]
