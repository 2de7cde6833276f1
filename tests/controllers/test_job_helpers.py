"""Table-driven tests of the Job controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.job import helpers as h
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def job(**spec: Any) -> dict[str, Any]:
    status = spec.pop("status", {})
    return {"metadata": {"name": "pi"}, "spec": {"parallelism": 1, **spec}, "status": status}


def pod(phase: str, *, deleting: bool = False, restarts: int = 0, init_restarts: int = 0) -> dict[str, Any]:
    meta: dict[str, Any] = {"deletionTimestamp": format_time(NOW)} if deleting else {}
    return {
        "metadata": meta,
        "status": {
            "phase": phase,
            "containerStatuses": [{"name": "c", "restartCount": restarts}],
            "initContainerStatuses": [{"name": "i", "restartCount": init_restarts}],
        },
    }


def test_count_pods() -> None:
    pods = [
        pod("Running"),
        pod("Pending"),
        pod("Succeeded"),
        pod("Failed"),
        pod("Failed"),
        pod("Running", deleting=True),
    ]
    assert h.count_pods(pods) == h.PodCounts(active=2, succeeded=1, failed=2, terminating=1)


@pytest.mark.parametrize(
    ("spec", "active", "succeeded", "create", "delete"),
    [
        ({"completions": 5, "parallelism": 2}, 0, 0, 2, 0),
        ({"completions": 5, "parallelism": 2}, 1, 4, 0, 0),  # one active covers the last completion
        ({"completions": 5, "parallelism": 2}, 1, 3, 1, 0),
        ({"completions": 5, "parallelism": 2}, 0, 4, 1, 0),  # never more than what remains
        ({"completions": 5, "parallelism": 2}, 0, 5, 0, 0),
        ({"completions": 5, "parallelism": 2}, 3, 0, 0, 1),  # parallelism lowered
        ({"parallelism": 3}, 0, 0, 3, 0),  # work queue: run parallelism pods
        ({"parallelism": 3}, 2, 1, 0, 0),  # one success: keep what runs, start nothing
        ({"completions": 5, "parallelism": 2, "suspend": True}, 2, 0, 0, 2),
        ({"completions": 1000, "parallelism": 900}, 0, 0, 500, 0),  # capped per sync
    ],
)
def test_pods_to_create_and_delete(
    spec: dict[str, Any], active: int, succeeded: int, create: int, delete: int
) -> None:
    j = job(**spec)
    assert h.pods_to_create(j, active=active, succeeded=succeeded) == create
    assert h.pods_to_delete(j, active=active, succeeded=succeeded) == delete


@pytest.mark.parametrize(("policy", "create"), [("TerminatingOrFailed", 2), ("Failed", 1)])
def test_pods_to_create_waits_for_terminating_under_failed_policy(policy: str, create: int) -> None:
    j = job(completions=5, parallelism=2, podReplacementPolicy=policy)
    assert h.pods_to_create(j, active=0, succeeded=0, terminating=1) == create


@pytest.mark.parametrize(
    ("spec", "active", "succeeded", "complete"),
    [
        ({"completions": 3}, 0, 3, True),
        ({"completions": 3}, 0, 2, False),
        ({"completions": 3}, 1, 3, False),  # still running
        ({}, 0, 1, True),  # work queue: any success, nothing running
        ({}, 1, 1, False),
        ({}, 0, 0, False),
    ],
)
def test_is_complete(spec: dict[str, Any], active: int, succeeded: int, complete: bool) -> None:
    assert h.is_complete(job(**spec), active=active, succeeded=succeeded) is complete


@pytest.mark.parametrize(
    ("limit", "failed", "past"),
    [
        (None, 6, False),  # default limit 6: six retries allowed
        (None, 7, True),
        (2, 2, False),  # at the limit
        (2, 3, True),  # limit + 1
        (0, 0, False),
        (0, 1, True),
    ],
)
def test_past_backoff_limit_by_failures(limit: int | None, failed: int, past: bool) -> None:
    spec = {} if limit is None else {"backoffLimit": limit}
    assert h.past_backoff_limit(job(**spec), failed=failed) is past


@pytest.mark.parametrize(
    ("limit", "pods", "past"),
    [
        (3, [pod("Running", restarts=2)], False),
        (3, [pod("Running", restarts=2, init_restarts=1)], True),  # restarts reach the limit
        (3, [pod("Running", restarts=1), pod("Pending", restarts=2)], True),
        (3, [pod("Failed", restarts=9)], False),  # finished pods' restarts do not count
        (0, [pod("Running", restarts=1)], True),
        (0, [pod("Running")], False),
    ],
)
def test_past_backoff_limit_on_failure_counts_restarts(
    limit: int, pods: list[dict[str, Any]], past: bool
) -> None:
    j = job(backoffLimit=limit, template={"spec": {"restartPolicy": "OnFailure"}})
    assert h.past_backoff_limit(j, failed=0, pods=pods) is past


def test_restarts_do_not_count_under_restart_policy_never() -> None:
    j = job(backoffLimit=1, template={"spec": {"restartPolicy": "Never"}})
    assert not h.past_backoff_limit(j, failed=0, pods=[pod("Running", restarts=5)])


@pytest.mark.parametrize(
    ("deadline", "started_ago", "suspend", "past"),
    [
        (60, 59, False, False),
        (60, 60, False, True),  # reaching the deadline is enough
        (60, None, False, False),  # not started
        (60, 600, True, False),  # suspended: clock stopped
        (None, 600, False, False),
    ],
)
def test_past_active_deadline(
    deadline: int | None, started_ago: int | None, suspend: bool, past: bool
) -> None:
    status = {} if started_ago is None else {"startTime": format_time(NOW - timedelta(seconds=started_ago))}
    spec: dict[str, Any] = {"suspend": suspend, "status": status}
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    assert h.past_active_deadline(job(**spec), NOW) is past


def test_conditions_go_interim_then_terminal() -> None:
    later = NOW + timedelta(seconds=5)
    met = h.success_criteria_met_condition(NOW)
    assert (met["type"], met["status"], met["reason"], met["message"]) == (
        "SuccessCriteriaMet",
        "True",
        "CompletionsReached",
        "Reached expected number of succeeded pods",
    )
    done = h.terminal_condition(met, now=later)
    assert (done["type"], done["reason"], done["lastTransitionTime"]) == (
        "Complete",
        "CompletionsReached",
        format_time(later),
    )

    backoff = h.backoff_limit_exceeded_condition(NOW)
    assert (backoff["type"], backoff["reason"], backoff["message"]) == (
        "FailureTarget",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    deadline = h.deadline_exceeded_condition(NOW)
    assert (deadline["reason"], deadline["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    failed = h.terminal_condition(deadline, now=later)
    assert (failed["type"], failed["reason"], failed["message"]) == (
        "Failed",
        "DeadlineExceeded",
        deadline["message"],
    )


@pytest.mark.parametrize(
    ("ttl", "finished_ago", "kind", "status", "expired"),
    [
        (100, 99, "Complete", "True", False),
        (100, 100, "Complete", "True", True),
        (0, 0, "Failed", "True", True),
        (100, 999, "Complete", "False", False),
        (100, 999, "SuccessCriteriaMet", "True", False),  # interim: not finished yet
        (None, 999, "Complete", "True", False),
    ],
)
def test_ttl_expired(ttl: int | None, finished_ago: int, kind: str, status: str, expired: bool) -> None:
    cond = {
        "type": kind,
        "status": status,
        "lastTransitionTime": format_time(NOW - timedelta(seconds=finished_ago)),
    }
    spec: dict[str, Any] = {"status": {"conditions": [cond]}}
    if ttl is not None:
        spec["ttlSecondsAfterFinished"] = ttl
    assert h.ttl_expired(job(**spec), NOW) is expired
