"""Table-driven tests of the namespace controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.client.rest import CONFIGMAPS, PODS, REPLICASETS
from kubeviz.controllers.namespace import helpers
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
EARLIER = format_time(NOW - timedelta(hours=1))


def item(*finalizers: str) -> dict[str, Any]:
    return {"metadata": {"name": "x", "finalizers": list(finalizers)}}


def pod(grace: int | None, phase: str = "Running") -> dict[str, Any]:
    spec = {} if grace is None else {"terminationGracePeriodSeconds": grace}
    return {"spec": spec, "status": {"phase": phase}}


@pytest.mark.parametrize(
    ("resource", "text"),
    [(PODS, "/v1, Resource=pods"), (REPLICASETS, "apps/v1, Resource=replicasets")],
)
def test_gvr_text_prints_as_go_does(resource, text):
    assert helpers.gvr_text(resource) == text


@pytest.mark.parametrize(
    ("items", "estimate", "expected"),
    [
        ([], 30, helpers.ResourceRemaining()),
        ([item(), item()], 30, helpers.ResourceRemaining(estimate=30, remaining=2)),
        (
            [item("a"), item("a", "b"), item()],
            0,
            helpers.ResourceRemaining(estimate=15, remaining=3, finalizers={"a": 2, "b": 1}),
        ),
        ([item("a")], 7, helpers.ResourceRemaining(estimate=7, remaining=1, finalizers={"a": 1})),
        ([item()], 0, helpers.ResourceRemaining(remaining=1)),
    ],
    ids=["empty", "graceful", "finalizers", "estimate-wins", "unexpected"],
)
def test_remaining_after_delete(items, estimate, expected):
    assert helpers.remaining_after_delete(items, estimate=estimate) == expected


@pytest.mark.parametrize(
    ("pods", "expected"),
    [
        ([], 0),
        ([pod(30), pod(60)], 60),
        ([pod(90, "Succeeded"), pod(10, "Failed"), pod(5)], 5),
        ([pod(None)], 0),
    ],
)
def test_pod_termination_estimate_ignores_finished_pods(pods, expected):
    assert helpers.pod_termination_estimate(pods) == expected


@pytest.mark.parametrize(("elapsed", "expected"), [(0, 30), (29, 30), (30, 0), (100, 0)])
def test_allowed_estimate_drops_what_has_passed(elapsed, expected):
    deleted = NOW - timedelta(seconds=elapsed)
    assert helpers.allowed_estimate(30, deleted_at=deleted, now=NOW) == expected


@pytest.mark.parametrize(("estimate", "seconds"), [(0, 1), (15, 8), (30, 16)])
def test_requeue_seconds(estimate, seconds):
    assert helpers.requeue_seconds(estimate) == seconds


def test_content_conditions_name_resources_and_finalizers():
    conditions = helpers.content_conditions(
        {PODS: 2, REPLICASETS: 1, CONFIGMAPS: 0}, {"b": 1, "a": 3}, now=NOW
    )
    assert conditions == [
        {
            "type": "NamespaceContentRemaining",
            "status": "True",
            "lastTransitionTime": format_time(NOW),
            "reason": "SomeResourcesRemain",
            "message": "Some resources are remaining: pods. has 2 resource instances, "
            "replicasets.apps has 1 resource instances",
        },
        {
            "type": "NamespaceFinalizersRemaining",
            "status": "True",
            "lastTransitionTime": format_time(NOW),
            "reason": "SomeFinalizerRemain",
            "message": "Some finalizers are remaining: a in 3 resource instances, b in 1 resource instances",
        },
    ]
    assert helpers.content_conditions({}, {}, now=NOW) == []


def test_delete_content_condition_sorts_and_counts_errors():
    assert helpers.delete_content_condition([], now=NOW) is None
    cond = helpers.delete_content_condition(["z failed", "a failed"], now=NOW)
    assert cond is not None
    assert cond["reason"] == "ContentDeletionFailed"
    assert cond["message"] == "Failed to delete all resource types, 2 remaining: a failed, z failed"


def ok(ctype: str, when: str) -> dict[str, Any]:
    return {
        "type": ctype,
        "status": "False",
        "lastTransitionTime": when,
        "reason": helpers.OK_REASONS[ctype],
        "message": helpers.OK_MESSAGES[ctype],
    }


ALL_OK_EARLIER = [ok(t, EARLIER) for t in helpers.CONDITION_TYPES]


@pytest.mark.parametrize(
    ("old", "new", "changed", "expected"),
    [
        ([], [], True, [ok(t, format_time(NOW)) for t in helpers.CONDITION_TYPES]),
        (ALL_OK_EARLIER, [], False, ALL_OK_EARLIER),
        (
            ALL_OK_EARLIER,
            [
                {
                    "type": helpers.CONTENT_REMAINING,
                    "status": "True",
                    "lastTransitionTime": format_time(NOW),
                    "reason": "SomeResourcesRemain",
                    "message": "m",
                }
            ],
            True,
            [
                *ALL_OK_EARLIER[:3],
                {
                    "type": helpers.CONTENT_REMAINING,
                    "status": "True",
                    "lastTransitionTime": format_time(NOW),
                    "reason": "SomeResourcesRemain",
                    "message": "m",
                },
                ALL_OK_EARLIER[4],
            ],
        ),
    ],
    ids=["first-pass", "unchanged", "flip"],
)
def test_update_conditions(old, new, changed, expected):
    got, did = helpers.update_conditions(old, new, now=NOW)
    assert (got, did) == (expected, changed)


def test_update_conditions_keeps_transition_time_when_only_the_message_moves():
    first = helpers.content_conditions({PODS: 2}, {}, now=NOW - timedelta(minutes=1))
    conditions, _ = helpers.update_conditions([], first, now=NOW - timedelta(minutes=1))
    second = helpers.content_conditions({PODS: 1}, {}, now=NOW)
    got, changed = helpers.update_conditions(conditions, second, now=NOW)
    remaining = next(c for c in got if c["type"] == helpers.CONTENT_REMAINING)
    assert changed
    assert remaining["message"] == "Some resources are remaining: pods. has 1 resource instances"
    assert remaining["lastTransitionTime"] == format_time(NOW - timedelta(minutes=1))


@pytest.mark.parametrize(
    ("finalizers", "expected"),
    [(["kubernetes"], []), (["z", "kubernetes", "a", "a"], ["a", "z"]), ([], [])],
)
def test_finalized_spec(finalizers, expected):
    assert helpers.finalized_spec(finalizers) == expected
