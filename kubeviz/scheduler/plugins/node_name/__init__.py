"""NodeName: honour a pod's ``spec.nodeName`` when the scheduler is asked to place it anyway.

Mirrors ``pkg/scheduler/framework/plugins/nodename``.
"""

from __future__ import annotations

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status

NAME = "NodeName"
REASON_NODE_NAME = "node(s) didn't match the requested node name"


class NodeName(FilterPlugin):
    """Filter out every node but the one the pod names, if it names one."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail nodes other than ``spec.nodeName``."""
        wanted = (pod.get("spec") or {}).get("nodeName")
        if not wanted or wanted == node.name:
            return Status.success()
        return Status.unschedulable(REASON_NODE_NAME, resolvable=False)
