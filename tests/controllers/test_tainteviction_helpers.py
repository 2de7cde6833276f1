"""Table-driven tests of the taint eviction controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.tainteviction.helpers import (
    eviction_delay,
    eviction_start,
    matching_tolerations,
    no_execute_taints,
    with_disruption_condition,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
UNREACHABLE = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}
NOT_READY = {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}
DEDICATED = {"key": "dedicated", "value": "db", "effect": "NoExecute"}


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def tol(key: str | None, seconds: int | None = None, **extra: Any) -> dict[str, Any]:
    t: dict[str, Any] = {"operator": "Exists", "effect": "NoExecute", **extra}
    if key is not None:
        t["key"] = key
    if seconds is not None:
        t["tolerationSeconds"] = seconds
    return t


def pod(*tolerations: dict[str, Any], scheduled: str | None = None) -> dict[str, Any]:
    conditions = (
        [{"type": "PodScheduled", "status": "True", "lastTransitionTime": scheduled}] if scheduled else []
    )
    return {
        "metadata": {"creationTimestamp": ago(10_000)},
        "spec": {"tolerations": list(tolerations)},
        "status": {"conditions": conditions},
    }


DEFAULTS = (tol("node.kubernetes.io/not-ready", 300), tol("node.kubernetes.io/unreachable", 300))


def test_no_execute_taints() -> None:
    node = {"spec": {"taints": [UNREACHABLE, {"key": "x", "effect": "NoSchedule"}]}}
    assert no_execute_taints(node) == [UNREACHABLE]
    assert no_execute_taints({"spec": {}}) == []


@pytest.mark.parametrize(
    ("tolerations", "taints", "expected"),
    [
        ((), [UNREACHABLE], 0.0),  # nothing tolerates it: now
        (DEFAULTS, [UNREACHABLE], 300.0),  # the DefaultTolerationSeconds admission's 300 s
        (DEFAULTS, [UNREACHABLE, NOT_READY], 300.0),
        (DEFAULTS, [UNREACHABLE, DEDICATED], 0.0),  # one taint not tolerated: now
        ((tol(None),), [UNREACHABLE, DEDICATED], None),  # tolerates everything, for ever
        ((tol("node.kubernetes.io/unreachable", 60), *DEFAULTS), [UNREACHABLE], 60.0),
        # Upstream uses the first toleration that matches each taint, not the shortest.
        (
            (tol("node.kubernetes.io/unreachable"), tol("node.kubernetes.io/unreachable", 60)),
            [UNREACHABLE],
            None,
        ),
        ((tol("node.kubernetes.io/unreachable", -1),), [UNREACHABLE], 0.0),
        (DEFAULTS, [], None),  # no taints: nothing to evict
    ],
)
def test_eviction_delay(
    tolerations: tuple[dict[str, Any], ...], taints: list[dict[str, Any]], expected: Any
) -> None:
    assert eviction_delay(pod(*tolerations), taints) == expected


def test_matching_tolerations_uses_the_first_match_per_taint() -> None:
    first, second = tol("node.kubernetes.io/unreachable", 10), tol(None, 20)
    assert matching_tolerations([UNREACHABLE, DEDICATED], [first, second]) == [first, second]
    assert matching_tolerations([DEDICATED], [first]) is None


def test_eviction_start() -> None:
    tainted = [{**UNREACHABLE, "timeAdded": ago(100)}, {**NOT_READY, "timeAdded": ago(50)}]
    assert eviction_start(pod(scheduled=ago(5000)), tainted) == NOW - timedelta(seconds=100)
    # Scheduled onto the node after it was tainted: the countdown starts then.
    assert eviction_start(pod(scheduled=ago(20)), tainted) == NOW - timedelta(seconds=20)
    # A taint without timeAdded: count from the scheduling (else the creation).
    assert eviction_start(pod(scheduled=ago(30)), [UNREACHABLE]) == NOW - timedelta(seconds=30)
    assert eviction_start(pod(), [UNREACHABLE]) == NOW - timedelta(seconds=10_000)


def test_with_disruption_condition() -> None:
    status = with_disruption_condition({"status": {"phase": "Running", "conditions": []}}, NOW)
    assert status is not None
    assert status["conditions"] == [
        {
            "type": "DisruptionTarget",
            "status": "True",
            "lastProbeTime": None,
            "lastTransitionTime": format_time(NOW),
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
        }
    ]
    assert with_disruption_condition({"status": status}, NOW) is None
