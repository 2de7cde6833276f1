"""NodeUnschedulable: keep pods off cordoned nodes.

Mirrors ``pkg/scheduler/framework/plugins/nodeunschedulable``.  A node with
``spec.unschedulable: true`` (what ``kubectl cordon`` sets) accepts only pods that tolerate the
``node.kubernetes.io/unschedulable:NoSchedule`` taint, the one DaemonSet pods carry.
"""

from __future__ import annotations

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status
from kubeviz.scheduler.plugins.helper import NO_SCHEDULE, tolerates, tolerations_of

NAME = "NodeUnschedulable"
REASON_UNSCHEDULABLE = "node(s) were unschedulable"
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": NO_SCHEDULE}


class NodeUnschedulable(FilterPlugin):
    """Filter out unschedulable nodes unless the pod tolerates them."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a cordoned node for a pod without the unschedulable toleration."""
        if not (node.node.get("spec") or {}).get("unschedulable"):
            return Status.success()
        if any(tolerates(t, UNSCHEDULABLE_TAINT) for t in tolerations_of(pod)):
            return Status.success()
        return Status.unschedulable(REASON_UNSCHEDULABLE, resolvable=False)
