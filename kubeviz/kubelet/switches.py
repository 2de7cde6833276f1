"""Which node component a pod runs, and whether a person has switched that component off.

The explorer's ``PATCH …/machines/<m>/components/<c> {"running": false}`` flips a switch on
the machine (``cluster.models.MachineComponent``).  For a component that runs as a pod (the
static control-plane pods, kube-proxy, the network daemon, coredns) the kubelet honours the
switch the way a broken binary would show on a real node: the container exits and is not
started again until the switch is back on, so the pod shows the failure in its status.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeviz.cluster.models import MachineComponent

SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-flannel"})
#: Pod label → component name, for the pods that are components of the architecture.
BY_LABEL: tuple[tuple[str, str, str], ...] = (
    ("component", "etcd", "etcd"),
    ("component", "kube-apiserver", "kube-apiserver"),
    ("component", "kube-controller-manager", "kube-controller-manager"),
    ("component", "kube-scheduler", "kube-scheduler"),
    ("k8s-app", "kube-proxy", "kube-proxy"),
    ("app", "flannel", "flanneld"),
    ("k8s-app", "calico-node", "calico-felix"),
    ("k8s-app", "cilium", "cilium-agent"),
    ("k8s-app", "kube-dns", "coredns"),
)


def component_of(pod: Mapping[str, Any]) -> str | None:
    """Name the architecture component a pod runs (``kube-proxy``, ``flanneld`` …), or None."""
    meta = pod.get("metadata") or {}
    if meta.get("namespace") not in SYSTEM_NAMESPACES:
        return None
    labels = meta.get("labels") or {}
    for key, value, component in BY_LABEL:
        if labels.get(key) == value:
            return component
    return None


def allowed(cluster: str, node: str, pod: Mapping[str, Any]) -> bool:
    """Tell whether the pod's containers may run: False only if its component is switched off."""
    component = component_of(pod)
    if component is None:
        return True
    found = (
        MachineComponent.objects.filter(machine__cluster=cluster, machine__name=node, name=component)
        .values_list("running", flat=True)
        .first()
    )
    return found is not False
