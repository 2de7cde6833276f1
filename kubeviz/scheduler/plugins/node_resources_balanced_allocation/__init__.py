"""NodeResourcesBalancedAllocation: prefer nodes whose cpu and memory fill up evenly.

Mirrors ``pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go``.  For each
resource the fraction ``(requested + pod request) / allocatable`` (capped at 1) is taken; the
score is ``(1 - standard deviation of the fractions) * 100``.  Real requests are used (no
non-zero defaults), and best-effort pods are skipped, as upstream does since v1.33, so that they
do not all pile onto one node.
"""

from __future__ import annotations

import math

from kubeviz.scheduler.framework.interface import MAX_NODE_SCORE, CycleState, ScorePlugin
from kubeviz.scheduler.framework.types import NodeInfo, Obj, pod_requests

NAME = "NodeResourcesBalancedAllocation"


def balanced_score(fractions: list[float]) -> int:
    """Return ``(1 - std dev) * 100`` of the utilisation fractions, truncated."""
    if len(fractions) == 2:
        std = abs(fractions[0] - fractions[1]) / 2
    elif len(fractions) > 2:
        mean = sum(fractions) / len(fractions)
        std = math.sqrt(sum((f - mean) ** 2 for f in fractions) / len(fractions))
    else:
        std = 0.0
    return int((1 - std) * MAX_NODE_SCORE)


class NodeResourcesBalancedAllocation(ScorePlugin):
    """Score nodes by how balanced their cpu and memory use would be."""

    NAME = NAME

    def skip(self, pod: Obj, *, state: CycleState) -> bool:
        """Sit out best-effort pods (no requests at all)."""
        return state.memo("requests", lambda: pod_requests(pod)).is_zero()

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Return the balance score of cpu and memory after placing the pod."""
        after = node.requested.copy()
        after.add(state.memo("requests", lambda: pod_requests(pod)))
        pairs = ((after.milli_cpu, node.allocatable.milli_cpu), (after.memory, node.allocatable.memory))
        return balanced_score([min(used / cap, 1.0) for used, cap in pairs if cap])
