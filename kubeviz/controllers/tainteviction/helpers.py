"""Pure arithmetic of taint-based eviction: whether, and from when, a pod may stay on a node.

Mirrors ``processPodOnNode``, ``getMinTolerationTime`` and ``GetMatchingTolerations`` (of
``pkg/apis/core/v1/helper``) as used by ``pkg/controller/tainteviction/taint_eviction.go``.

What is simplified: upstream starts a pod's countdown when its in-memory timed queue first sees
the pod on a tainted node.  A level-based loop has no such memory, so the countdown starts at
the earliest ``timeAdded`` of the node's NoExecute taints, or when the pod was scheduled if
that is later (a pod that lands on an already tainted node gets its full toleration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from kubeviz.controllers.nodelifecycle.helpers import tolerates
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

DISRUPTION_TARGET = "DisruptionTarget"


def no_execute_taints(node: Obj) -> list[Obj]:
    """Return the node's NoExecute taints."""
    return [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") == "NoExecute"]


def matching_tolerations(taints: Sequence[Obj], tolerations: Sequence[Obj]) -> list[Obj] | None:
    """Return, for each taint, the first toleration that tolerates it; None if one is not tolerated."""
    used: list[Obj] = []
    for taint in taints:
        found = next((t for t in tolerations if tolerates(t, taint)), None)
        if found is None:
            return None
        used.append(found)
    return used


def eviction_delay(pod: Obj, taints: Sequence[Obj]) -> float | None:
    """Return how many seconds (unscaled) the pod may stay; 0 means now, None means for ever.

    A taint no toleration tolerates means now.  Otherwise the shortest ``tolerationSeconds``
    of the tolerations used (0 or less counts as now); None when none of them sets a limit,
    or when there are no taints at all.
    """
    if not taints:
        return None
    used = matching_tolerations(taints, (pod.get("spec") or {}).get("tolerations") or [])
    if used is None:
        return 0.0
    limits = [float(t["tolerationSeconds"]) for t in used if t.get("tolerationSeconds") is not None]
    if not limits:
        return None
    return max(0.0, min(limits))


def _scheduled_at(pod: Obj) -> datetime | None:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "True":
            return parse_time(cond.get("lastTransitionTime"))
    return parse_time((pod.get("metadata") or {}).get("creationTimestamp"))


def eviction_start(pod: Obj, taints: Sequence[Obj]) -> datetime | None:
    """Return when the pod's countdown started: the taints' arrival, or its scheduling if later."""
    added = [t for t in (parse_time(taint.get("timeAdded")) for taint in taints) if t is not None]
    times = [t for t in (min(added) if added else None, _scheduled_at(pod)) if t is not None]
    return max(times) if times else None


def disruption_condition(now: datetime) -> dict[str, Any]:
    """Build the condition a pod gets before the taint manager deletes it."""
    return {
        "type": DISRUPTION_TARGET,
        "status": "True",
        "lastProbeTime": None,
        "lastTransitionTime": format_time(now),
        "reason": "DeletionByTaintManager",
        "message": "Taint manager: deleting due to NoExecute taint",
    }


def with_disruption_condition(pod: Obj, now: datetime) -> dict[str, Any] | None:
    """Return the pod's status with the DisruptionTarget condition, or None if it has it already."""
    status = dict(pod.get("status") or {})
    conditions = [dict(c) for c in status.get("conditions") or []]
    wanted = disruption_condition(now)
    for index, cond in enumerate(conditions):
        if cond.get("type") == DISRUPTION_TARGET:
            if cond.get("status") == "True" and cond.get("reason") == wanted["reason"]:
                return None
            conditions[index] = wanted
            break
    else:
        conditions.append(wanted)
    status["conditions"] = conditions
    return status
