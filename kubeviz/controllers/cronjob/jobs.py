"""Pure helpers of the CronJob controller about the Jobs it makes and keeps.

Mirrors ``getJobFromTemplate2``, ``getRef``, ``inActiveList``, ``byJobStartTime`` /
``removeOldestJobs`` and ``nextScheduleTimeDuration`` of ``pkg/controller/cronjob``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from kubeviz.controllers.cronjob.helpers import job_name, most_recent_schedule_time, next_schedule_time
from kubeviz.controllers.objects import meta, new_controller_ref, spec, status
from kubeviz.controllers.timestamps import parse_time

Obj = dict[str, Any]

SCHEDULED_TIMESTAMP_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
#: Wake up this long after a scheduled time, so that the time has surely passed.
NEXT_SCHEDULE_DELTA = timedelta(milliseconds=100)


def rfc3339_in_zone(moment: datetime, zone: str | None) -> str:
    """Format an instant in a time zone as Go's RFC 3339 does: ``Z`` for a zero offset, else ``+hh:mm``."""
    local = moment.astimezone(ZoneInfo(zone) if zone else UTC)
    text = local.strftime("%Y-%m-%dT%H:%M:%S%z")
    if local.utcoffset() == timedelta(0):
        return text[:-5] + "Z"
    return f"{text[:-2]}:{text[-2:]}"


def job_from_template(cronjob: Mapping[str, Any], scheduled: datetime) -> Obj:
    """Return the Job a CronJob starts for one scheduled time.

    The name is a function of the time (``<cronjob>-<minutes since epoch>``), so creating it
    twice fails instead of running it twice.  The template's labels and annotations are
    copied, the scheduled time is recorded in the CronJob's time zone, and the CronJob
    controls the Job.
    """
    template = spec(cronjob).get("jobTemplate") or {}
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = rfc3339_in_zone(scheduled, spec(cronjob).get("timeZone"))
    job_meta: Obj = {
        "name": job_name(cronjob, scheduled),
        "namespace": meta(cronjob).get("namespace"),
        "annotations": annotations,
        "ownerReferences": [new_controller_ref(cronjob)],
    }
    if tmeta.get("labels"):
        job_meta["labels"] = dict(tmeta["labels"])
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": job_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def job_reference(job: Mapping[str, Any]) -> Obj:
    """Return the ObjectReference ``status.active`` keeps for a Job."""
    return {
        "kind": "Job",
        "namespace": meta(job).get("namespace"),
        "name": meta(job).get("name"),
        "uid": meta(job).get("uid"),
        "apiVersion": "batch/v1",
        "resourceVersion": meta(job).get("resourceVersion"),
    }


def in_active_list(cronjob: Mapping[str, Any], uid: str) -> bool:
    return any(ref.get("uid") == uid for ref in status(cronjob).get("active") or [])


def finished_type(job: Mapping[str, Any]) -> str | None:
    """Return ``Complete`` or ``Failed`` for a finished Job, else None."""
    for cond in status(job).get("conditions") or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


def oldest_beyond_limit(jobs: Iterable[Mapping[str, Any]], limit: int) -> list[Mapping[str, Any]]:
    """Return the Jobs to delete so that ``limit`` remain: the earliest started first.

    Jobs that never started sort last; equal start times are ordered by name.
    """
    ordered = sorted(
        jobs,
        key=lambda j: (
            parse_time(status(j).get("startTime")) is None,
            parse_time(status(j).get("startTime")) or datetime.min.replace(tzinfo=UTC),
            meta(j).get("name", ""),
        ),
    )
    excess = len(ordered) - max(0, int(limit))
    return ordered[:excess] if excess > 0 else []


def requeue_seconds(cronjob: Mapping[str, Any], now: datetime) -> float | None:
    """Return the seconds until the next scheduled time after the latest one due (None: never).

    A schedule that cannot be evaluated is retried from ``now``, as upstream does.
    """
    sched, tz = str(spec(cronjob).get("schedule", "")), spec(cronjob).get("timeZone")
    try:
        recent = most_recent_schedule_time(cronjob, now)
        base = recent.time or recent.earliest
    except ValueError:
        base = now
    try:
        upcoming = next_schedule_time(sched, base, tz)
    except ValueError:
        return None
    if upcoming is None:
        return None
    return (upcoming + NEXT_SCHEDULE_DELTA - now).total_seconds()
