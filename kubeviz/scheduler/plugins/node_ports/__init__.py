"""NodePorts: two pods cannot bind the same host port on one node.

Mirrors ``pkg/scheduler/framework/plugins/nodeports``.  A requested ``hostPort`` conflicts with
one already used on the node when the protocol matches and the host IPs overlap (an empty IP or
``0.0.0.0`` overlaps every IP).
"""

from __future__ import annotations

from collections.abc import Iterator

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status

NAME = "NodePorts"
REASON_PORTS = "node(s) didn't have free ports for the requested pod ports"
_ANY_IP = "0.0.0.0"


def host_ports(pod: Obj) -> Iterator[tuple[str, str, int]]:
    """Yield (ip, protocol, port) for every host port the pod's containers ask for."""
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            number = int(port.get("hostPort") or 0)
            if number > 0:
                yield (port.get("hostIP") or _ANY_IP, port.get("protocol") or "TCP", number)


def _conflict(a: tuple[str, str, int], b: tuple[str, str, int]) -> bool:
    if a[1:] != b[1:]:
        return False
    return _ANY_IP in (a[0], b[0]) or a[0] == b[0]


class NodePorts(FilterPlugin):
    """Filter out nodes where a requested host port is already taken."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node on which any of the pod's host ports is in use."""
        wanted = list(host_ports(pod))
        if not wanted:
            return Status.success()
        used = [p for existing in node.pods for p in host_ports(existing)]
        if any(_conflict(w, u) for w in wanted for u in used):
            return Status.unschedulable(REASON_PORTS)
        return Status.success()
