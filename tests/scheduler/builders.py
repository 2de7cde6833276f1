"""Build minimal pod and node dicts in Kubernetes JSON form for scheduler tests."""

from __future__ import annotations

from typing import Any

from kubeviz.scheduler.framework.interface import CycleState
from kubeviz.scheduler.framework.types import NodeInfo


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "8Gi",
    pods: str = "110",
    labels: dict[str, str] | None = None,
    taints: list[dict[str, Any]] | None = None,
    unschedulable: bool = False,
    images: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Return a node with this allocatable, labels (hostname included) and taints."""
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
        "spec": {"taints": taints or [], "unschedulable": unschedulable},
        "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}, "images": images or []},
    }


def pod(
    name: str = "p",
    *,
    cpu: str | None = None,
    memory: str | None = None,
    labels: dict[str, str] | None = None,
    namespace: str = "default",
    **spec: Any,
) -> dict[str, Any]:
    """Return a one-container pod requesting cpu/memory, with extra spec fields."""
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    container = {"name": "c", "image": "app", "resources": {"requests": requests}}
    return {
        "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
        "spec": {"containers": [container], **spec},
    }


def state(*infos: NodeInfo) -> CycleState:
    """Return a cycle state where every given node is known and feasible."""
    return CycleState(all_nodes=list(infos), feasible=list(infos))
