"""NodeAffinity: ``nodeSelector`` and node affinity, required and preferred.

Mirrors ``pkg/scheduler/framework/plugins/nodeaffinity``.  Filter: the node must match
``spec.nodeSelector`` and one of the required ``nodeSelectorTerms`` (In, NotIn, Exists,
DoesNotExist, Gt, Lt; ``matchFields`` on ``metadata.name``).  Score: the sum of the weights of
the preferred terms the node matches, normalised so the best node gets 100.  The scheduler
profile's ``addedAffinity`` argument is not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin, ScorePlugin, default_normalize
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status
from kubeviz.scheduler.plugins.helper import required_node_affinity_matches, term_matches

NAME = "NodeAffinity"
REASON_POD = "node(s) didn't match Pod's node affinity/selector"


def _preferred(pod: Obj) -> list[Mapping[str, Any]]:
    affinity = ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}
    return list(affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or [])


class NodeAffinity(FilterPlugin, ScorePlugin):
    """Filter on the required node selection; score on the preferred terms."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node that misses the node selector or every required term."""
        if required_node_affinity_matches(pod, node.node):
            return Status.success()
        return Status.unschedulable(REASON_POD, resolvable=False)

    def skip(self, pod: Obj, *, state: CycleState) -> bool:
        """Sit out pods with no preferred node affinity."""
        return not _preferred(pod)

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Sum the weights of the preferred terms this node matches."""
        return sum(
            int(p.get("weight") or 0)
            for p in _preferred(pod)
            if term_matches(p.get("preference") or {}, node.node)
        )

    def normalize(self, scores: Mapping[str, int], *, state: CycleState) -> dict[str, int]:
        """Scale so the best-matching node scores 100."""
        return default_normalize(scores)
