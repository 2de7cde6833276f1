"""Table-driven tests of the CronJob controller's Job helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from kubeviz.controllers.cronjob import jobs as j
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)


def cronjob(**spec: Any) -> dict[str, Any]:
    status = spec.pop("status", {})
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {
            "name": "tick",
            "namespace": "ops",
            "uid": "cj-uid",
            "creationTimestamp": "2026-03-01T11:00:00Z",
        },
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {
                "metadata": {"labels": {"app": "tick"}, "annotations": {"team": "ops"}},
                "spec": {
                    "backoffLimit": 2,
                    "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}},
                },
            },
            **spec,
        },
        "status": status,
    }


@pytest.mark.parametrize(
    ("zone", "moment", "text"),
    [
        (None, datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "2026-03-01T12:00:00Z"),
        ("Europe/Paris", datetime(2026, 3, 1, 12, 0, tzinfo=UTC), "2026-03-01T13:00:00+01:00"),
        ("Europe/London", datetime(2026, 1, 1, 9, 0, tzinfo=UTC), "2026-01-01T09:00:00Z"),  # zero offset
        ("America/New_York", datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "2026-07-01T08:00:00-04:00"),
    ],
)
def test_rfc3339_in_zone(zone: str | None, moment: datetime, text: str) -> None:
    assert j.rfc3339_in_zone(moment, zone) == text


def test_job_from_template() -> None:
    scheduled = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    job = j.job_from_template(cronjob(timeZone="Europe/Paris"), scheduled)
    meta = job["metadata"]
    assert meta["name"] == f"tick-{int(scheduled.timestamp()) // 60}"
    assert meta["namespace"] == "ops"
    assert meta["labels"] == {"app": "tick"}
    assert meta["annotations"] == {
        "team": "ops",
        j.SCHEDULED_TIMESTAMP_ANNOTATION: "2026-03-01T13:00:00+01:00",
    }
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "name": "tick",
            "uid": "cj-uid",
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert job["spec"]["backoffLimit"] == 2
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")


def child(name: str, started: str | None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"startTime": started} if started else {}}


@pytest.mark.parametrize(
    ("limit", "doomed"),
    [
        (4, []),
        (3, ["a"]),  # same start time as b: by name
        (2, ["a", "b"]),
        (1, ["a", "b", "c"]),  # never started: last
        (0, ["a", "b", "c", "never"]),
    ],
)
def test_oldest_beyond_limit(limit: int, doomed: list[str]) -> None:
    jobs = [
        child("never", None),
        child("c", "2026-03-01T11:10:00Z"),
        child("b", "2026-03-01T11:05:00Z"),
        child("a", "2026-03-01T11:05:00Z"),
    ]
    assert [x["metadata"]["name"] for x in j.oldest_beyond_limit(jobs, limit)] == doomed


@pytest.mark.parametrize(
    ("status", "seconds"),
    [
        ({"lastScheduleTime": "2026-03-01T12:00:00Z"}, 270.1),  # next is 12:05
        ({"lastScheduleTime": "2026-03-01T11:50:00Z"}, 270.1),  # 11:55 and 12:00 missed: still 12:05
        ({"lastScheduleTime": "2026-03-01T12:10:00Z"}, 870.1),  # a clock behind our writes: 12:15
    ],
)
def test_requeue_seconds(status: dict[str, str], seconds: float) -> None:
    assert j.requeue_seconds(cronjob(status=status), NOW) == pytest.approx(seconds)


def test_requeue_seconds_for_bad_schedules() -> None:
    assert j.requeue_seconds(cronjob(schedule="0 0 31 2 *"), NOW) is None  # never fires
    assert j.requeue_seconds(cronjob(schedule="not a schedule"), NOW) is None


def test_active_list_and_finished_type() -> None:
    cj = cronjob(status={"active": [{"uid": "u1", "name": "tick-1"}]})
    assert j.in_active_list(cj, "u1") and not j.in_active_list(cj, "u2")
    done = {"status": {"conditions": [{"type": "Complete", "status": "True"}]}}
    failing = {"status": {"conditions": [{"type": "FailureTarget", "status": "True"}]}}
    assert j.finished_type(done) == "Complete"
    assert j.finished_type(failing) is None
    ref = j.job_reference({"metadata": {"name": "n", "namespace": "ops", "uid": "u", "resourceVersion": "7"}})
    assert ref == {
        "kind": "Job",
        "namespace": "ops",
        "name": "n",
        "uid": "u",
        "apiVersion": "batch/v1",
        "resourceVersion": "7",
    }
    assert format_time(NOW) == "2026-03-01T12:00:30Z"
