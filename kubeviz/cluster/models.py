"""The machines of a cluster and the components each one runs: the simulated hardware.

A ``Machine`` is a box a person can power off and on; a ``MachineComponent`` is one process on
it (etcd, kube-apiserver, kubelet, kube-proxy, the network daemon, coredns …) with the switch
a person flips to stop or start it.  Neither is Kubernetes state: no apiserver object stands
for a machine (a Node is what its kubelet registers), so they live here and not in the store.

``running`` on a component is the switch, not a report: whether a pod-run component is really
up is read from its pod (see ``selectors.machines``).  ``boot_id`` changes at every power on,
which is how a kubelet learns that the containers it knew died with the machine.
"""

from __future__ import annotations

import uuid

from django.db import models


class Machine(models.Model):
    MASTER = "master"
    WORKER = "worker"
    ROLES = [(MASTER, MASTER), (WORKER, WORKER)]

    cluster = models.CharField(max_length=63, db_index=True)
    cluster_uid = models.CharField(max_length=36)
    name = models.CharField(max_length=63)
    role = models.CharField(max_length=8, choices=ROLES)
    index = models.PositiveIntegerField()
    ip = models.GenericIPAddressField(protocol="IPv4")
    running = models.BooleanField(default=True)
    boot_id = models.UUIDField(default=uuid.uuid4)
    cpu = models.CharField(max_length=16, default="4")
    memory = models.CharField(max_length=16, default="16Gi")
    pods = models.CharField(max_length=16, default="110")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "name"], name="cluster_machine_name")]
        ordering = ["cluster", "role", "index"]

    def __str__(self) -> str:
        return f"{self.cluster}/{self.name}"


class MachineComponent(models.Model):
    machine = models.ForeignKey(Machine, on_delete=models.CASCADE, related_name="components")
    name = models.CharField(max_length=63)
    running = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["machine", "name"], name="cluster_component_name")]
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.machine}/{self.name}"
