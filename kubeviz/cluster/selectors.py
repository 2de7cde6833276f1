"""Reads for the explorer: machines with their components' real state.

A component's ``running`` is what a person would see on the machine, not the switch:

* ``kubelet``: the machine is on and the kubelet is switched on;
* a component that runs as a pod (etcd, kube-apiserver, kube-controller-manager and
  kube-scheduler on masters, kube-proxy, the network daemon, coredns): additionally, its pod
  on that node has every container running.

coredns is listed only on the machines where one of its pods is placed.
"""

from __future__ import annotations

from typing import Any

from kubeviz.apiserver import bootstrap
from kubeviz.cluster.models import Machine, MachineComponent
from kubeviz.kubelet import switches

SYSTEM_NAMESPACES = ("kube-system", "kube-flannel")


def _containers_running(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return bool(statuses) and all("running" in (s.get("state") or {}) for s in statuses)


def system_pods(cluster: str) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Return the component pods of a cluster by (node, component)."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for namespace in SYSTEM_NAMESPACES:
        for pod in bootstrap.list_objects(
            cluster, group="", version="v1", resource="pods", namespace=namespace
        ):
            component = switches.component_of(pod)
            node = (pod.get("spec") or {}).get("nodeName")
            if component and node and not (pod.get("metadata") or {}).get("deletionTimestamp"):
                found.setdefault((node, component), []).append(pod)
    return found


def describe_machine(m: Machine, pods: dict[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    kubelet_on = False
    components = []
    for c in m.components.all():
        if c.name == "kubelet":
            running = m.running and c.running
            kubelet_on = running
        else:
            mine = pods.get((m.name, c.name), [])
            if c.name == "coredns" and not mine:
                continue
            running = m.running and c.running and any(_containers_running(p) for p in mine)
        components.append({"name": c.name, "running": running, "enabled": c.running})
    return {
        "name": m.name,
        "role": m.role,
        "running": m.running,
        "ip": m.ip,
        "bootID": str(m.boot_id),
        "resources": {"cpu": m.cpu, "memory": m.memory, "pods": m.pods},
        "kubeletRunning": kubelet_on,
        "components": components,
    }


def machines(cluster: str) -> list[dict[str, Any]]:
    """Return the explorer's JSON for every machine of a cluster, masters first."""
    pods = system_pods(cluster)
    rows = Machine.objects.filter(cluster=cluster).prefetch_related("components")
    ordered = sorted(rows, key=lambda m: (m.role != Machine.MASTER, m.index))
    return [describe_machine(m, pods) for m in ordered]


def machines_digest(cluster: str) -> tuple[Any, ...]:
    """What the machine switches are now: powered, boot, and each component's switch.

    Cheap enough to poll; what the components' pods do reaches the browser as watch events.
    """
    rows = Machine.objects.filter(cluster=cluster).values_list("name", "running", "boot_id")
    switches_ = MachineComponent.objects.filter(machine__cluster=cluster).values_list(
        "machine__name", "name", "running"
    )
    return (tuple(sorted((n, r, str(b)) for n, r, b in rows)), tuple(sorted(switches_)))
