"""Table-driven tests of the Job controller's pod accounting and the TTL arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.job import pods as p
from kubeviz.controllers.timestamps import format_time
from kubeviz.controllers.ttlafterfinished.controller import seconds_left

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return format_time(NOW + timedelta(seconds=seconds))


def pod(
    uid: str,
    phase: str = "Running",
    *,
    tracked: bool = True,
    deleting: bool = False,
    finished: float | None = None,
    unready: float | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"uid": uid, "creationTimestamp": at(-100)}
    if tracked:
        meta["finalizers"] = [p.TRACKING_FINALIZER]
    if deleting:
        meta["deletionTimestamp"] = at(-5)
        meta["deletionGracePeriodSeconds"] = 30
    state: dict[str, Any] = (
        {"running": {}} if finished is None else {"terminated": {"finishedAt": at(finished)}}
    )
    conditions = (
        [] if unready is None else [{"type": "Ready", "status": "False", "lastTransitionTime": at(unready)}]
    )
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "conditions": conditions,
            "containerStatuses": [{"name": "c", "state": state}],
        },
    }


def job(policy: str = "TerminatingOrFailed", uncounted: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"spec": {"podReplacementPolicy": policy}, "status": {"uncountedTerminatedPods": uncounted or {}}}


@pytest.mark.parametrize(
    ("the_pod", "policy", "failed"),
    [
        (pod("a", "Failed"), "TerminatingOrFailed", True),
        (pod("a", "Running"), "TerminatingOrFailed", False),
        (pod("a", "Running", deleting=True), "TerminatingOrFailed", True),  # deleted before it ended
        (pod("a", "Running", deleting=True), "Failed", False),  # only a Failed phase counts
        (pod("a", "Succeeded", deleting=True), "TerminatingOrFailed", False),
    ],
)
def test_is_pod_failed(the_pod: dict[str, Any], policy: str, failed: bool) -> None:
    assert p.is_pod_failed(the_pod, job(policy)) is failed


def test_active_and_terminating_are_disjoint() -> None:
    states = [
        pod("a"),
        pod("b", "Pending"),
        pod("c", deleting=True),
        pod("d", "Succeeded"),
        pod("e", "Failed"),
    ]
    assert [p.is_active(x) for x in states] == [True, True, False, False, False]
    assert [p.is_terminating(x) for x in states] == [False, False, True, False, False]


def test_new_finished_pods_skips_counted_uncounted_and_expected() -> None:
    pods = [
        pod("ok-new", "Succeeded"),
        pod("ok-counted", "Succeeded", tracked=False),  # finalizer gone: counted earlier
        pod("ok-uncounted", "Succeeded"),  # already listed in uncountedTerminatedPods
        pod("ok-expected", "Succeeded"),  # finalizer removal sent, cache behind
        pod("bad-new", "Failed"),
        pod("bad-deleted", "Running", deleting=True),
        pod("running", "Running"),
    ]
    the_job = job(uncounted={"succeeded": ["ok-uncounted"]})
    ok, bad = p.new_finished_pods(
        pods, the_job, uncounted=p.Uncounted.of(the_job), expected_removals={"ok-expected"}
    )
    assert [p.uid_of(x) for x in ok] == ["ok-new"]
    assert [p.uid_of(x) for x in bad] == ["bad-new", "bad-deleted"]


@pytest.mark.parametrize(
    ("the_pod", "expected"),
    [
        (pod("a", "Failed", finished=-10, unready=-20), NOW - timedelta(seconds=10)),  # containers first
        (pod("a", "Failed", unready=-20), NOW - timedelta(seconds=20)),  # then Ready=False
        (pod("a", "Running", deleting=True), NOW - timedelta(seconds=35)),  # deletion minus grace
        (pod("a", "Failed"), NOW - timedelta(seconds=100)),  # creation, as a last resort
    ],
)
def test_finished_time(the_pod: dict[str, Any], expected: datetime) -> None:
    assert p.finished_time(the_pod) == expected


@pytest.mark.parametrize(
    ("failures", "last", "remaining"),
    [
        (0, None, 0.0),
        (1, 0, 10.0),
        (1, -4, 6.0),
        (2, -4, 16.0),  # 20 s after two failures
        (3, -50, 0.0),  # 40 s, long past
        (10, 0, 600.0),  # capped at 10 minutes
    ],
)
def test_backoff_remaining(failures: int, last: float | None, remaining: float) -> None:
    when = None if last is None else NOW + timedelta(seconds=last)
    assert p.Backoff(failures, when).remaining(NOW, base=10, cap=600) == remaining


def test_advance_backoff() -> None:
    before = p.Backoff(2, NOW - timedelta(seconds=90))
    failed = [pod("f1", "Failed", finished=-30), pod("f2", "Failed", finished=-20)]
    assert p.advance_backoff(before, [], []) == before
    assert p.advance_backoff(before, [], failed) == p.Backoff(4, NOW - timedelta(seconds=20))
    # A success resets the count; failures after it still count.
    success = [pod("s1", "Succeeded", finished=-25)]
    assert p.advance_backoff(before, success, failed) == p.Backoff(1, NOW - timedelta(seconds=20))
    assert p.advance_backoff(before, success, []) == p.Backoff(0, None)
    deleted = [pod("d", "Running", deleting=True)]
    assert p.advance_backoff(p.Backoff(), [], deleted) == p.Backoff(1, NOW - timedelta(seconds=35))


def finished_job(ttl: int | None, *, finished: float | None = -10, deleting: bool = False) -> dict[str, Any]:
    spec = {} if ttl is None else {"ttlSecondsAfterFinished": ttl}
    conds = (
        []
        if finished is None
        else [{"type": "Complete", "status": "True", "lastTransitionTime": at(finished)}]
    )
    meta = {"deletionTimestamp": at(0)} if deleting else {}
    return {"metadata": meta, "spec": spec, "status": {"conditions": conds}}


@pytest.mark.parametrize(
    ("the_job", "left"),
    [
        (finished_job(0), -10.0),
        (finished_job(60), 50.0),
        (finished_job(None), None),  # no TTL: kept for ever
        (finished_job(0, finished=None), None),  # not finished
        (finished_job(0, deleting=True), None),  # already going
    ],
)
def test_ttl_seconds_left(the_job: dict[str, Any], left: float | None) -> None:
    assert seconds_left(the_job, NOW) == left
