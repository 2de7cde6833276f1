"""Writes on machines and clusters: boot a cluster as kubeadm does, add machines, flip switches.

A new cluster is one transaction: the apiserver's bootstrap objects, the add-ons ``kubeadm
init`` and a CNI manifest apply (kube-proxy, the CNI's daemon, coredns and the kube-dns
Service), and the machines with their components.  Nodes are not created here: each
machine's kubelet registers its own Node on its first heartbeat.
"""

from __future__ import annotations

import ipaddress
import uuid
from typing import Any

from django.db import transaction
from django.db.models import Max

from kubeviz.apiserver import bootstrap
from kubeviz.cluster import addons
from kubeviz.cluster.models import Machine, MachineComponent
from kubeviz.kubelet.models import Container, Image, IPAllocation, NodeAgent, Sandbox
from kubeviz.netd.models import NodeRoutes
from kubeviz.proxy.models import ProxyRules

#: Machine addresses: masters from .11, workers from .101 of this network.
MACHINE_NETWORK = ipaddress.IPv4Network("192.168.0.0/16")
MASTER_OFFSET = 10
WORKER_OFFSET = 100
STATIC_COMPONENTS = addons.STATIC_COMPONENTS


class NoSuchMachine(Exception):
    """No machine (or component) by that name."""


def machine_ip(role: str, index: int) -> str:
    offset = (MASTER_OFFSET if role == Machine.MASTER else WORKER_OFFSET) + index
    if role == Machine.WORKER and index > 150:
        offset = 300 + index  # past the first /24, leave room for masters' neighbours
    return str(MACHINE_NETWORK.network_address + offset)


def components_of(role: str, cni: str) -> list[str]:
    """Name the components a machine runs from boot (coredns follows its pods, not the machine)."""
    node = ["kubelet", "kube-proxy", addons.NETWORK_DAEMONS[cni]]
    return [*STATIC_COMPONENTS, *node] if role == Machine.MASTER else node


def machine_create(
    *, cluster: str, cluster_uid: str, role: str, cni: str, resources: dict[str, str] | None = None
) -> Machine:
    """Add the next machine of ``role`` (``worker-4`` after ``worker-3``) with its components."""
    with transaction.atomic():
        last = Machine.objects.filter(cluster=cluster, role=role).aggregate(Max("index"))["index__max"] or 0
        index = last + 1
        m = Machine.objects.create(
            cluster=cluster,
            cluster_uid=cluster_uid,
            name=f"{role}-{index}",
            role=role,
            index=index,
            ip=machine_ip(role, index),
            **(resources or {}),
        )
        MachineComponent.objects.bulk_create(
            [MachineComponent(machine=m, name=name) for name in [*components_of(role, cni), "coredns"]]
        )
    return m


def apiserver_endpoints(masters: int) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    """Return the ``kubernetes`` Service's Endpoints and EndpointSlice: every master at :6443.

    kube-apiserver keeps these itself (its endpoint reconciler); the Service has no selector,
    so no controller touches them.
    """
    ips = [machine_ip(Machine.MASTER, i) for i in range(1, masters + 1)]
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": ip} for ip in ips],
                "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
            }
        ],
    }
    slice_ = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "labels": {"kubernetes.io/service-name": "kubernetes"},
        },
        "addressType": "IPv4",
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}} for ip in ips],
        "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}],
    }
    return [
        ("", "v1", "endpoints", "default", endpoints),
        ("discovery.k8s.io", "v1", "endpointslices", "default", slice_),
    ]


def cluster_create(*, name: str, topology: dict[str, Any]) -> bootstrap.ClusterInfo:
    """Create a cluster the way kubeadm boots one; ``bootstrap.ClusterExists`` if taken."""
    manifests = (
        addons.addon_manifests(cni=topology["cni"], proxy_mode=topology["proxyMode"])
        if topology.get("addons", True)
        else []
    )
    objects = [
        *apiserver_endpoints(topology["masters"]),
        *[(m.group, m.version, m.resource, m.namespace, m.body) for m in manifests],
    ]
    with transaction.atomic():
        info = bootstrap.create_cluster(name=name, topology=topology, objects=objects)
        Machine.objects.filter(cluster=name).delete()  # leftovers of an older cluster of that name
        for role, count in ((Machine.MASTER, topology["masters"]), (Machine.WORKER, topology["workers"])):
            for _ in range(count):
                machine_create(cluster=name, cluster_uid=info.uid, role=role, cni=topology["cni"])
    return info


def cluster_delete(*, name: str) -> None:
    """Delete a cluster, its machines and every node's local state."""
    bootstrap.delete_cluster(name)
    with transaction.atomic():
        Machine.objects.filter(cluster=name).delete()
        Container.objects.filter(sandbox__cluster=name).delete()
        for model in (Sandbox, Image, IPAllocation, NodeAgent, NodeRoutes, ProxyRules):
            model.objects.filter(cluster=name).delete()


def machine_get(cluster: str, name: str) -> Machine:
    try:
        return Machine.objects.get(cluster=cluster, name=name)
    except Machine.DoesNotExist as exc:
        raise NoSuchMachine(name) from exc


def machine_set_running(*, cluster: str, name: str, running: bool) -> Machine:
    """Power a machine on or off; powering on is a new boot (a new ``boot_id``)."""
    m = machine_get(cluster, name)
    if m.running == running:
        return m
    m.running = running
    fields = ["running"]
    if running:
        m.boot_id = uuid.uuid4()
        fields.append("boot_id")
    m.save(update_fields=fields)
    return m


def component_set_running(*, cluster: str, machine: str, component: str, running: bool) -> MachineComponent:
    """Switch one component of a machine off or on."""
    m = machine_get(cluster, machine)
    found = MachineComponent.objects.filter(machine=m, name=component).first()
    if found is None:
        raise NoSuchMachine(f"{machine}/{component}")
    if found.running != running:
        found.running = running
        found.save(update_fields=["running"])
    return found
