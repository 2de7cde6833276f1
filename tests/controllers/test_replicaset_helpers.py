"""Table-driven tests of the ReplicaSet controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.replicaset.helpers import (
    calculate_status,
    get_pods_to_delete,
    is_pod_active,
    is_pod_available,
    is_pod_ready,
    slow_start_batch,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def pod(
    name: str,
    *,
    node: str = "n1",
    phase: str = "Running",
    ready: bool = True,
    ready_since: float | None = 3600,
    cost: str | None = None,
    restarts: int = 0,
    age: float = 7200,
    labels: dict[str, str] | None = None,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "uid": f"uid-{name}",
        "creationTimestamp": ago(age),
        "labels": labels if labels is not None else {"app": "web"},
    }
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    if deleting:
        meta["deletionTimestamp"] = ago(1)
    cond: dict[str, Any] = {"type": "Ready", "status": "True" if ready else "False"}
    if ready_since is not None:
        cond["lastTransitionTime"] = ago(ready_since)
    return {
        "metadata": meta,
        "spec": {"nodeName": node},
        "status": {
            "phase": phase,
            "conditions": [cond],
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
        },
    }


# --- predicates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "active"),
    [
        (pod("a"), True),
        (pod("a", phase="Pending"), True),
        (pod("a", phase="Succeeded"), False),
        (pod("a", phase="Failed"), False),
        (pod("a", deleting=True), False),
    ],
)
def test_is_pod_active(p: dict[str, Any], active: bool) -> None:
    assert is_pod_active(p) is active


def test_is_pod_ready_needs_a_true_ready_condition() -> None:
    assert is_pod_ready(pod("a"))
    assert not is_pod_ready(pod("a", ready=False))
    assert not is_pod_ready({"status": {}})


@pytest.mark.parametrize(
    ("ready", "ready_since", "min_ready", "available"),
    [
        (True, 0, 0, True),  # no minimum: ready is available
        (True, 9, 10, False),
        (True, 10, 10, False),  # exactly the minimum is not 'longer than'
        (True, 11, 10, True),
        (True, None, 10, False),  # unknown transition time never becomes available
        (False, 100, 0, False),
    ],
)
def test_is_pod_available(ready: bool, ready_since: float | None, min_ready: int, available: bool) -> None:
    p = pod("a", ready=ready, ready_since=ready_since)
    assert is_pod_available(p, min_ready, NOW) is available


# --- slow start -------------------------------------------------------------------------------


class Calls:
    """Count calls; fail (raise, or return False) on the given call numbers."""

    def __init__(self, failing: set[int], *, raising: bool = True) -> None:
        self.n, self.failing, self.raising = 0, failing, raising

    def __call__(self) -> bool:
        self.n += 1
        if self.n in self.failing:
            if self.raising:
                raise ValueError(f"call {self.n} failed")
            return False
        return True


@pytest.mark.parametrize(
    ("count", "initial", "failing", "successes", "calls", "failed"),
    [
        (0, 1, set(), 0, 0, False),
        (10, 1, set(), 10, 10, False),  # batches 1,2,4,3
        (10, 1, {1}, 0, 1, True),  # first batch fails: nothing else tried
        (10, 1, {2}, 2, 3, True),  # batch 2 (calls 2-3) runs fully, then stop
        (10, 1, {4}, 6, 7, True),  # batch 3 (calls 4-7) runs fully, then stop
        (10, 1, {10}, 9, 10, True),  # last batch (8-10) shrinks to what remains
        (5, 3, set(), 5, 5, False),  # batches 3,2
        (5, 3, {2}, 2, 3, True),
    ],
)
def test_slow_start_batch(
    count: int, initial: int, failing: set[int], successes: int, calls: int, failed: bool
) -> None:
    fn = Calls(failing)
    got, err = slow_start_batch(count, initial, fn)
    assert (got, fn.n, err is not None) == (successes, calls, failed)


def test_slow_start_batch_counts_false_as_failure() -> None:
    fn = Calls({2, 3}, raising=False)
    got, err = slow_start_batch(10, 1, fn)
    assert (got, fn.n) == (1, 3)
    assert err is not None


def test_slow_start_batch_returns_the_first_error() -> None:
    _, err = slow_start_batch(10, 1, Calls({2, 3}))
    assert str(err) == "call 2 failed"


# --- deletion ranking -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second", "why"),
    [
        (pod("x", node=""), pod("y"), "unscheduled before scheduled"),
        (pod("x", phase="Pending"), pod("y", phase="Unknown"), "Pending before Unknown"),
        (pod("x", phase="Unknown"), pod("y", phase="Running"), "Unknown before Running"),
        (pod("x", ready=False), pod("y"), "not ready before ready"),
        (pod("x", cost="-5"), pod("y"), "lower deletion cost first"),
        (pod("x", cost="1"), pod("y", cost="100"), "lower deletion cost first (both set)"),
        (pod("x", node="crowded"), pod("y", node="n1"), "more colocated related pods first"),
        (pod("x", ready_since=60), pod("y", ready_since=3600), "ready for less time first"),
        (pod("x", ready_since=None), pod("y", ready_since=60), "unknown ready time first"),
        (pod("x", restarts=3), pod("y", restarts=1), "more restarts first"),
        (pod("x", age=60), pod("y", age=86400), "newer first"),
        (pod("x", node="", age=99999), pod("y", phase="Pending", ready=False, age=1), "node beats phase"),
        (pod("x", cost="bogus", ready=False), pod("y"), "invalid cost ignored; readiness decides"),
    ],
)
def test_deletion_ranking_pairs(first: dict[str, Any], second: dict[str, Any], why: str) -> None:
    related = [first, second, pod("r1", node="crowded"), pod("r2", node="crowded")]
    for pods in ([first, second], [second, first]):
        assert get_pods_to_delete(pods, related, 1, now=NOW) == [first], why


def test_deletion_ranking_buckets_similar_ages_and_breaks_ties_by_uid() -> None:
    # 1200s and 2000s old fall in the same log2(nanoseconds) bucket (2**40..2**41), so UID decides.
    older_b = pod("b", age=2000)
    newer_a = pod("a", age=1200)
    assert get_pods_to_delete([older_b, newer_a], [], 1, now=NOW) == [newer_a]
    older_a = pod("a", age=2000)
    newer_b = pod("b", age=1200)
    assert get_pods_to_delete([newer_b, older_a], [], 1, now=NOW) == [older_a]


def test_get_pods_to_delete_full_ordering() -> None:
    pods = [
        pod("running-old", age=86400),
        pod("unassigned", node="", phase="Pending", ready=False),
        pod("not-ready", ready=False),
        pod("pending", phase="Pending", ready=False),
        pod("restarting", restarts=5),
        pod("expensive", cost="1000"),
    ]
    got = [p["metadata"]["name"] for p in get_pods_to_delete(pods, pods, 5, now=NOW)]
    assert got == ["unassigned", "pending", "not-ready", "restarting", "running-old"]


def test_get_pods_to_delete_takes_all_when_diff_covers_them() -> None:
    pods = [pod("a"), pod("b")]
    assert get_pods_to_delete(pods, pods, 2, now=NOW) == pods
    assert get_pods_to_delete(pods, pods, 0, now=NOW) == []


# --- status -----------------------------------------------------------------------------------


def rs(
    *, replicas: int = 3, min_ready: int = 0, conditions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "metadata": {"name": "web", "generation": 7},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready,
            "template": {"metadata": {"labels": {"app": "web", "tier": "fe"}}},
        },
        "status": {"observedGeneration": 6, "conditions": conditions or []},
    }


def test_calculate_status_counts() -> None:
    full = {"app": "web", "tier": "fe", "extra": "x"}
    pods = [
        pod("a", labels=full, ready_since=30),
        pod("b", labels=full, ready_since=5),
        pod("c", labels={"app": "web"}, ready=False),
    ]
    status = calculate_status(rs(min_ready=10), pods, now=NOW, terminating_pods=[pod("t")])
    assert status == {
        "replicas": 3,
        "fullyLabeledReplicas": 2,
        "readyReplicas": 2,
        "availableReplicas": 1,
        "observedGeneration": 7,
        "terminatingReplicas": 1,
    }


@pytest.mark.parametrize(
    ("pods", "reason"),
    [(1, "FailedCreate"), (5, "FailedDelete")],
)
def test_calculate_status_sets_replica_failure(pods: int, reason: str) -> None:
    status = calculate_status(
        rs(replicas=3), [pod(f"p{i}") for i in range(pods)], now=NOW, manage_replicas_error="quota exceeded"
    )
    [cond] = status["conditions"]
    assert (cond["type"], cond["status"], cond["reason"], cond["message"]) == (
        "ReplicaFailure",
        "True",
        reason,
        "quota exceeded",
    )
    assert cond["lastTransitionTime"] == format_time(NOW)


def test_calculate_status_keeps_then_clears_replica_failure() -> None:
    old = {"type": "ReplicaFailure", "status": "True", "reason": "FailedCreate", "message": "old"}
    kept = calculate_status(rs(conditions=[old]), [], now=NOW, manage_replicas_error="new")
    assert kept["conditions"] == [old]
    cleared = calculate_status(rs(conditions=[old]), [], now=NOW)
    assert "conditions" not in cleared


def test_slow_start_batch_in_parallel_still_stops_after_a_failing_batch() -> None:
    import threading

    lock, calls = threading.Lock(), []

    def fn() -> bool:
        with lock:
            calls.append(1)
            return len(calls) <= 6  # calls 7 and later fail: inside the batch of 4 (calls 4..7)

    got, err = slow_start_batch(100, 1, fn, parallel=8)
    assert (got, len(calls)) == (6, 7)
    assert isinstance(err, RuntimeError)
