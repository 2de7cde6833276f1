"""The CronJob controller against a live cluster.

Waiting for real minute boundaries would make these tests slow, so the scheduling tests call
the controller's ``sync`` directly with a ``Context`` whose clock is set just past a minute
boundary (the same context a worker builds, against the same cluster and shared cache).  The
cluster's own CronJob controller keeps running alongside: it reacts to the Jobs' events
(history cleanup, ``SawCompletedJob``), and with the real clock it never finds a start time
due, because the injected syncs have already moved ``lastScheduleTime`` into its future.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

from kubeviz.client import CRONJOBS, EVENTS, JOBS, APIStatusError
from kubeviz.client.clusterinfo import cluster_info
from kubeviz.controllers.base import Context, context_for
from kubeviz.controllers.cronjob.controller import CONTROLLER, sync
from kubeviz.controllers.cronjob.helpers import next_schedule_time
from kubeviz.controllers.timestamps import format_time, parse_time
from tests.standin import wait_for

SCHEDULED = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def cronjob(name: str, command: list[str], **spec: object) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "schedule": "* * * * *",
            **spec,
            "jobTemplate": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "busybox:1.36", "command": command}],
                        }
                    }
                },
            },
        },
    }


def get(plane, resource, name: str) -> dict | None:
    try:
        return plane.client.get(resource, name, namespace="default")
    except APIStatusError as exc:
        if exc.is_not_found():
            return None
        raise


def child_jobs(plane, cronjob_name: str) -> list[dict]:
    return [
        j
        for j in plane.client.list(JOBS, namespace="default").items
        if any(
            r["kind"] == "CronJob" and r["name"] == cronjob_name
            for r in j["metadata"].get("ownerReferences") or []
        )
    ]


def events_for(plane, name: str) -> list[tuple[str, str, str]]:
    items = plane.client.list(EVENTS, namespace="default").items
    return [(e["type"], e["reason"], e["message"]) for e in items if e["involvedObject"]["name"] == name]


def finished(job: dict | None) -> str | None:
    for cond in (job or {}).get("status", {}).get("conditions") or []:
        if cond["type"] in ("Complete", "Failed") and cond["status"] == "True":
            return cond["type"]
    return None


class ClockedController:
    """Runs the CronJob controller's sync for one CronJob at an injected time."""

    def __init__(self, plane, name: str) -> None:
        self.plane = plane
        self.name = name
        self.ctx: Context = context_for(CONTROLLER, plane.cluster.name, info=cluster_info(plane.cluster.name))
        wait_for(lambda: self.cached() is not None, timeout=10, what="the CronJob in the shared cache")
        created = parse_time(self.cached()["metadata"]["creationTimestamp"])
        self.schedule = self.cached()["spec"]["schedule"]
        #: The CronJob's first start time after it was created.
        self.first = next_schedule_time(self.schedule, created)

    def cached(self) -> dict | None:
        return self.ctx.lister(CRONJOBS).get("default", self.name)

    def minute(self, n: int) -> datetime:
        """Return the n-th start time (0 is the first)."""
        at = self.first
        for _ in range(n):
            at = next_schedule_time(self.schedule, at)
        return at

    def sync_at(self, now: datetime, until: Callable[[dict], bool]) -> dict:
        """Sync at ``now`` until the stored and cached CronJob satisfy ``until``; return it.

        A sync may lose a race with the cluster's own controller (a status conflict) or read
        a cache that has not caught up with its previous write; the next one converges.
        """
        self.ctx.clock = lambda: now

        def converged() -> dict | None:
            sync(self.ctx, f"default/{self.name}")
            stored = get(self.plane, CRONJOBS, self.name)
            return stored if stored is not None and until(stored) else None

        stored = wait_for(converged, timeout=10, interval=0.2, what=f"the CronJob's sync at {now}")
        wait_for(lambda: until(self.cached() or {}), timeout=10, what="the cache to catch up")
        return stored


def scheduled_at(moment: datetime) -> Callable[[dict], bool]:
    return lambda cj: cj.get("status", {}).get("lastScheduleTime") == format_time(moment)


def test_create_job_from_cronjob(plane):
    plane.client.create(CRONJOBS, cronjob("nightly", ["true"], suspend=True))
    plane.kubectl("create", "job", "--from=cronjob/nightly", "nightly-manual")
    job = plane.client.get(JOBS, "nightly-manual", namespace="default")
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == ("CronJob", "nightly", True)
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    plane.kubectl("wait", "--for=condition=complete", "job/nightly-manual", "--timeout=30s")

    def last_success():
        return (get(plane, CRONJOBS, "nightly") or {}).get("status", {}).get("lastSuccessfulTime")

    # Not in the active list, but a succeeded child still counts as the latest success.
    wait_for(last_success, timeout=10, what="lastSuccessfulTime")
    assert (
        "Warning",
        "UnexpectedJob",
        "Saw a job that the controller did not create or forgot: nightly-manual",
    ) in (events_for(plane, "nightly"))
    assert plane.client.get(CRONJOBS, "nightly", namespace="default")["status"].get("active") is None


def test_schedule_creates_jobs_and_history_limit_deletes_old_ones(plane):
    plane.kubectl(
        "apply", "-f", "-", input=json.dumps(cronjob("tick", ["true"], successfulJobsHistoryLimit=1))
    )
    clock = ClockedController(plane, "tick")
    names = []
    for n in range(3):
        at = clock.minute(n)
        name = f"tick-{int(at.timestamp()) // 60}"
        names.append(name)
        cj = clock.sync_at(at + timedelta(seconds=5), until=scheduled_at(at))
        job = get(plane, JOBS, name)
        assert job is not None, f"the Job for {at} is named {name}"
        assert job["metadata"]["annotations"][SCHEDULED] == at.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert job["metadata"]["labels"]["app"] == "tick"
        assert job["metadata"]["ownerReferences"][0]["uid"] == cj["metadata"]["uid"]
        if n == 0:
            assert [a["name"] for a in cj["status"]["active"]] == [name]
            assert cj["status"]["active"][0]["uid"] == job["metadata"]["uid"]
        wait_for(lambda name=name: finished(get(plane, JOBS, name)) == "Complete", timeout=20, what=f"{name}")

    def history_trimmed():
        left = sorted(j["metadata"]["name"] for j in child_jobs(plane, "tick"))
        return left == names[-1:]

    wait_for(history_trimmed, timeout=15, what="only the newest successful Job to remain")
    cj = wait_for(
        lambda: (c := get(plane, CRONJOBS, "tick")) and not c["status"].get("active") and c,
        timeout=10,
        what="no active",
    )
    newest = get(plane, JOBS, names[-1])
    assert cj["status"]["lastSuccessfulTime"] == newest["status"]["completionTime"]
    assert cj["status"]["lastScheduleTime"] == format_time(clock.minute(2))
    seen = events_for(plane, "tick")
    for name in names:
        assert ("Normal", "SuccessfulCreate", f"Created job {name}") in seen
    for name in names[:-1]:
        assert ("Normal", "SuccessfulDelete", f"Deleted job {name}") in seen
    assert any(reason == "SawCompletedJob" for _, reason, _m in seen)


def test_concurrency_policy_forbid_then_replace(plane):
    plane.client.create(CRONJOBS, cronjob("busy", ["sleep", "3600"], concurrencyPolicy="Forbid"))
    clock = ClockedController(plane, "busy")
    first = clock.minute(0)
    clock.sync_at(first + timedelta(seconds=1), until=scheduled_at(first))
    running = f"busy-{int(first.timestamp()) // 60}"

    second = clock.minute(1)
    clock.ctx.clock = lambda: second + timedelta(seconds=1)
    sync(clock.ctx, "default/busy")
    assert get(plane, JOBS, f"busy-{int(second.timestamp()) // 60}") is None, "Forbid skips while a Job runs"
    assert any(reason == "JobAlreadyActive" for _, reason, _m in events_for(plane, "busy"))

    plane.client.patch(CRONJOBS, "busy", {"spec": {"concurrencyPolicy": "Replace"}}, namespace="default")
    wait_for(lambda: clock.cached()["spec"]["concurrencyPolicy"] == "Replace", timeout=10, what="the cache")
    third = clock.minute(2)
    cj = clock.sync_at(third + timedelta(seconds=1), until=scheduled_at(third))
    replacement = f"busy-{int(third.timestamp()) // 60}"
    assert [a["name"] for a in cj["status"]["active"]] == [replacement]
    gone = get(plane, JOBS, running)
    assert gone is None or gone["metadata"].get("deletionTimestamp"), "Replace deletes the running Job"
    assert ("Normal", "SuccessfulDelete", f"Deleted job {running}") in events_for(plane, "busy")


def test_starting_deadline_and_suspend(plane):
    # Yearly, so that the cluster's own controller has nothing to start while the test runs.
    spec = {"schedule": "0 0 1 1 *", "startingDeadlineSeconds": 10}
    plane.client.create(CRONJOBS, cronjob("late", ["true"], **spec))
    clock = ClockedController(plane, "late")
    first = clock.minute(0)
    clock.ctx.clock = lambda: first + timedelta(seconds=30)
    sync(clock.ctx, "default/late")
    assert child_jobs(plane, "late") == [], "a start time past its deadline is skipped"
    assert "lastScheduleTime" not in get(plane, CRONJOBS, "late")["status"]
    clock.sync_at(first + timedelta(seconds=5), until=scheduled_at(first))
    assert len(child_jobs(plane, "late")) == 1, "within the deadline it starts"

    plane.client.patch(CRONJOBS, "late", {"spec": {"suspend": True}}, namespace="default")
    wait_for(lambda: clock.cached()["spec"]["suspend"], timeout=10, what="the cache")
    clock.ctx.clock = lambda: clock.minute(1) + timedelta(seconds=1)
    sync(clock.ctx, "default/late")
    assert len(child_jobs(plane, "late")) == 1, "a suspended CronJob starts nothing"
