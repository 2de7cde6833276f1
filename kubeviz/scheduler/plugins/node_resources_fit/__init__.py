"""NodeResourcesFit: does the pod fit in what the node has left, and how empty is the node.

Mirrors ``pkg/scheduler/framework/plugins/noderesources/fit.go`` with the default
``LeastAllocated`` scoring strategy.

Filter: the node must have room for one more pod, and for each resource the pod requests
(cpu, memory, ephemeral-storage, extended resources), allocatable minus already requested must
cover the request.  Every shortfall becomes a reason.  A request larger than the node's whole
allocatable can never be met by evicting pods, so it makes the verdict unresolvable.

Score: per resource ``(allocatable - requested) * 100 / allocatable`` with cpu and memory
weighted 1 each, averaged.  ``requested`` is the node's non-zero requests plus the pod's: a
container without requests counts as 100m cpu and 200Mi memory, so best-effort pods still
spread.
"""

from __future__ import annotations

from kubeviz.scheduler.framework.interface import MAX_NODE_SCORE, CycleState, FilterPlugin, ScorePlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Resources, Status, pod_requests

NAME = "NodeResourcesFit"
REASON_TOO_MANY_PODS = "Too many pods"

# (resource name, weight) for LeastAllocated, upstream's default scoring resources.
SCORING_RESOURCES = (("cpu", 1), ("memory", 1))


def insufficient(name: str) -> str:
    """Return upstream's reason for a resource the node lacks."""
    return f"Insufficient {name}"


def _amounts(r: Resources) -> dict[str, int]:
    return {"cpu": r.milli_cpu, "memory": r.memory, "ephemeral-storage": r.ephemeral_storage, **r.scalars}


def fits(pod: Obj, node: NodeInfo, *, request: Resources | None = None) -> Status:
    """Return the fit verdict of ``pod`` on ``node`` with every shortfall as a reason."""
    reasons: list[str] = []
    unresolvable = False
    if len(node.pods) + 1 > node.allocatable.allowed_pods:
        reasons.append(REASON_TOO_MANY_PODS)
    request = pod_requests(pod) if request is None else request
    allocatable, requested = _amounts(node.allocatable), _amounts(node.requested)
    for name, amount in _amounts(request).items():
        free = allocatable.get(name, 0) - requested.get(name, 0)
        if amount > 0 and amount > free:
            reasons.append(insufficient(name))
            unresolvable = unresolvable or amount > allocatable.get(name, 0)
    if not reasons:
        return Status.success()
    return Status.unschedulable(*reasons, resolvable=not unresolvable)


def least_requested_score(requested: int, capacity: int) -> int:
    """Return how empty a resource would be, 0..100; overcommitted counts as full."""
    if capacity == 0 or requested > capacity:
        return 0
    return (capacity - requested) * MAX_NODE_SCORE // capacity


class NodeResourcesFit(FilterPlugin, ScorePlugin):
    """Filter on free resources; score the least allocated nodes highest."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node without room for the pod, naming every short resource."""
        return fits(pod, node, request=state.memo("requests", lambda: pod_requests(pod)))

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Return the weighted average of the per-resource free fractions, 0..100."""
        after = node.non_zero_requested.copy()
        after.add(state.memo("requests:non-zero", lambda: pod_requests(pod, non_zero=True)))
        requested, allocatable = _amounts(after), _amounts(node.allocatable)
        total = weights = 0
        for name, weight in SCORING_RESOURCES:
            if allocatable.get(name, 0) == 0:
                continue
            total += least_requested_score(requested.get(name, 0), allocatable[name]) * weight
            weights += weight
        return total // weights if weights else 0
