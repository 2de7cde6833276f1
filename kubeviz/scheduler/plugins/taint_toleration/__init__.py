"""TaintToleration: hard taints keep pods out, soft taints make nodes less attractive.

Mirrors ``pkg/scheduler/framework/plugins/tainttoleration``.  Filter: the first
``NoSchedule`` / ``NoExecute`` taint no toleration tolerates fails the node, named in the reason
as upstream prints it (``{key: value}``).  Score: the number of ``PreferNoSchedule`` taints the
pod does not tolerate (counting only tolerations whose effect is empty or PreferNoSchedule),
normalised so the fewest wins.
"""

from __future__ import annotations

from collections.abc import Mapping

from kubeviz.scheduler.framework.interface import CycleState, FilterPlugin, ScorePlugin, default_normalize
from kubeviz.scheduler.framework.types import NodeInfo, Obj, Status
from kubeviz.scheduler.plugins.helper import (
    NO_EXECUTE,
    NO_SCHEDULE,
    PREFER_NO_SCHEDULE,
    taints_of,
    tolerates,
    tolerations_of,
    untolerated_taint,
)

NAME = "TaintToleration"


def untolerated_reason(key: str, value: str) -> str:
    """Return upstream's reason for an untolerated taint."""
    return f"node(s) had untolerated taint {{{key}: {value}}}"


class TaintToleration(FilterPlugin, ScorePlugin):
    """Filter on NoSchedule/NoExecute taints; score on PreferNoSchedule taints."""

    NAME = NAME

    def filter(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> Status:
        """Fail a node with a NoSchedule or NoExecute taint the pod does not tolerate."""
        taint = untolerated_taint(
            taints_of(node.node), tolerations_of(pod), effects=(NO_SCHEDULE, NO_EXECUTE)
        )
        if taint is None:
            return Status.success()
        reason = untolerated_reason(taint.get("key") or "", taint.get("value") or "")
        return Status.unschedulable(reason, resolvable=False)

    def score(self, pod: Obj, node: NodeInfo, *, state: CycleState) -> int:
        """Count the PreferNoSchedule taints the pod does not tolerate."""
        soft = [t for t in tolerations_of(pod) if (t.get("effect") or "") in ("", PREFER_NO_SCHEDULE)]
        return sum(
            1
            for taint in taints_of(node.node)
            if taint.get("effect") == PREFER_NO_SCHEDULE and not any(tolerates(t, taint) for t in soft)
        )

    def normalize(self, scores: Mapping[str, int], *, state: CycleState) -> dict[str, int]:
        """Reverse-normalise: the node with the fewest intolerable taints scores highest."""
        return default_normalize(scores, reverse=True)
