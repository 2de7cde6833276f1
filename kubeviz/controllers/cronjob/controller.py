"""The CronJob controller's loop: start a Job at each scheduled time, and keep a short history.

Mirrors ``sync``, ``syncCronJob`` and ``cleanupFinishedJobs`` of
``pkg/controller/cronjob/cronjob_controllerv2.go``:

* each sync first deletes the oldest finished Jobs beyond ``successfulJobsHistoryLimit`` /
  ``failedJobsHistoryLimit``, then brings ``status.active`` up to date with the Jobs it sees
  (``SawCompletedJob``, ``MissingJob``, ``UnexpectedJob``) and ``lastSuccessfulTime`` with
  the latest completion;
* then, unless the CronJob is suspended or being deleted, it starts the latest scheduled time
  not yet started (missed earlier ones are skipped; one past ``startingDeadlineSeconds`` is
  missed with ``MissSchedule``), honouring ``concurrencyPolicy`` (``Forbid`` skips while a
  Job is active, ``Replace`` deletes the active ones first).  The Job is named after the
  scheduled time, so a retry can never start it twice;
* finally it asks to be woken 100 ms after the next scheduled time.

Time is the cluster's clock (``ctx.now()``), and schedules are never scaled by the cluster's
speed: a cron minute is a minute.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kubeviz.client.informer import split_key
from kubeviz.client.rest import CRONJOBS, JOBS, APIStatusError, PropagationPolicy
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Watch, owner_key
from kubeviz.controllers.cronjob import helpers
from kubeviz.controllers.cronjob import jobs as cjobs
from kubeviz.controllers.objects import meta, spec
from kubeviz.controllers.ownership import controller_of, is_controlled_by
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = dict[str, Any]


def sync(ctx: Context, key: str) -> None:
    """Reconcile one CronJob: clean up history, track its Jobs, start the one due now."""
    namespace, name = split_key(key)
    cached = ctx.lister(CRONJOBS).get(namespace, name)
    if cached is None:
        return
    children = [
        j
        for j in ctx.lister(JOBS).list(namespace)
        if (ref := controller_of(j)) is not None and ref.get("kind") == "CronJob" and ref.get("name") == name
    ]
    cronjob = copy.deepcopy(cached)
    cronjob.setdefault("status", {})
    cleaned = _cleanup_finished_jobs(ctx, cronjob, children)
    outcome = _sync_cronjob(ctx, cronjob, children)
    if cleaned or outcome.changed:
        try:
            ctx.client.update_status(CRONJOBS, cronjob)
        except APIStatusError as exc:
            if exc.is_conflict() or exc.is_not_found():
                return  # the newer CronJob's own event brings it back here
            raise
    if outcome.requeue is not None:
        ctx.requeue_after(key, max(0.0, outcome.requeue))
        return
    if outcome.error is not None:
        raise outcome.error


@dataclass(frozen=True, kw_only=True)
class _Outcome:
    """What ``_sync_cronjob`` decided: when to look again, whether status changed, any error."""

    requeue: float | None
    changed: bool
    error: Exception | None = None


def _sync_cronjob(ctx: Context, cronjob: Obj, children: list[Obj]) -> _Outcome:
    now = ctx.now()
    try:
        changed = _track_children(ctx, cronjob, children)
    except APIStatusError as exc:
        return _Outcome(requeue=None, changed=False, error=exc)
    if meta(cronjob).get("deletionTimestamp"):
        return _Outcome(requeue=None, changed=changed)
    zone = spec(cronjob).get("timeZone")
    if zone:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            ctx.events.warning(cronjob, "UnknownTimeZone", f'invalid timeZone: "{zone}": {exc}')
            return _Outcome(requeue=None, changed=changed)
    if spec(cronjob).get("suspend"):
        return _Outcome(requeue=None, changed=changed)
    schedule = str(spec(cronjob).get("schedule", ""))
    if "TZ" in schedule:
        ctx.events.warning(
            cronjob,
            "UnsupportedSchedule",
            f'CRON_TZ or TZ used in schedule "{schedule}" is not officially supported, see '
            "https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/ for more details",
        )
    try:
        helpers.parse_schedule(schedule, zone)
    except ValueError as exc:
        ctx.events.warning(cronjob, "UnparseableSchedule", f'unparseable schedule: "{schedule}" : {exc}')
        return _Outcome(requeue=None, changed=changed)
    try:
        recent = helpers.most_recent_schedule_time(cronjob, now)
    except ValueError as exc:
        ctx.events.warning(cronjob, "InvalidSchedule", f"invalid schedule: {schedule} : {exc}")
        return _Outcome(requeue=None, changed=changed)
    if recent.missed == helpers.Missed.MANY:
        ctx.events.warning(cronjob, "TooManyMissedTimes", helpers.TOO_MANY_MISSED_MESSAGE)
    scheduled = recent.time
    if scheduled is None:
        return _Outcome(requeue=cjobs.requeue_seconds(cronjob, now), changed=changed)
    if helpers.too_late(cronjob, scheduled, now):
        ctx.events.warning(
            cronjob,
            "MissSchedule",
            f"Missed scheduled time to start a job: {scheduled.strftime('%a, %d %b %Y %H:%M:%S +0000')}",
        )
        return _Outcome(requeue=cjobs.requeue_seconds(cronjob, now), changed=changed)
    return _start(ctx, cronjob, scheduled, now=now, changed=changed)


def _start(ctx: Context, cronjob: Obj, scheduled: datetime, *, now: datetime, changed: bool) -> _Outcome:
    """Start the Job of one scheduled time, unless it ran already or the policy forbids it."""
    status = cronjob["status"]
    active = status.get("active") or []
    wanted = helpers.job_name(cronjob, scheduled)
    if (
        any(ref.get("name") == wanted for ref in active)
        or parse_time(status.get("lastScheduleTime")) == scheduled
    ):
        return _Outcome(requeue=cjobs.requeue_seconds(cronjob, now), changed=changed)
    policy = spec(cronjob).get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        ctx.events.normal(
            cronjob,
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
        )
        return _Outcome(requeue=cjobs.requeue_seconds(cronjob, now), changed=changed)
    if policy == "Replace":
        for ref in list(active):
            try:
                running = ctx.client.get(JOBS, ref["name"], namespace=ref.get("namespace"))
            except APIStatusError as exc:
                ctx.events.warning(cronjob, "FailedGet", f"Get job: {exc.message}")
                return _Outcome(requeue=None, changed=changed, error=exc)
            if not _delete_job(ctx, cronjob, running):
                message = f"could not replace job {ref.get('namespace')}/{ref['name']}"
                return _Outcome(requeue=None, changed=changed, error=RuntimeError(message))
            changed = True
    namespace = meta(cronjob)["namespace"]
    try:
        job = ctx.client.create(JOBS, cjobs.job_from_template(cronjob, scheduled), namespace=namespace)
        ctx.events.normal(cronjob, "SuccessfulCreate", f"Created job {meta(job)['name']}")
    except APIStatusError as exc:
        if not exc.is_already_exists():
            ctx.events.warning(cronjob, "FailedCreate", f"Error creating job: {exc.message}")
            return _Outcome(requeue=None, changed=changed, error=exc)
        # Created by an earlier sync that died before writing status, or by someone else.
        try:
            job = ctx.client.get(JOBS, wanted, namespace=namespace)
        except APIStatusError as again:
            return _Outcome(requeue=None, changed=changed, error=again)
        if not is_controlled_by(job, cronjob) or cjobs.in_active_list(cronjob, meta(job)["uid"]):
            return _Outcome(requeue=None, changed=changed)
    status["active"] = [*(status.get("active") or []), cjobs.job_reference(job)]
    status["lastScheduleTime"] = format_time(scheduled)
    return _Outcome(requeue=cjobs.requeue_seconds(cronjob, now), changed=True)


def _track_children(ctx: Context, cronjob: Obj, children: list[Obj]) -> bool:
    """Bring ``status.active`` and ``lastSuccessfulTime`` up to date; return whether they changed.

    Raise when the apiserver cannot answer a question the cache cannot settle.
    """
    status = cronjob["status"]
    changed = False
    seen: set[str] = set()
    fresh: Mapping[str, Any] | None = None
    for job in children:
        uid = meta(job)["uid"]
        seen.add(uid)
        found = cjobs.in_active_list(cronjob, uid)
        finished = cjobs.finished_type(job)
        if not found and finished is None:
            if fresh is None:
                fresh = ctx.client.get(CRONJOBS, meta(cronjob)["name"], namespace=meta(cronjob)["namespace"])
            if cjobs.in_active_list(fresh, uid):
                continue  # our cache is behind our own status write
            ctx.events.warning(
                cronjob,
                "UnexpectedJob",
                f"Saw a job that the controller did not create or forgot: {meta(job)['name']}",
            )
        elif finished is not None:
            if found:
                _drop_active(cronjob, uid)
                ctx.events.normal(
                    cronjob,
                    "SawCompletedJob",
                    f"Saw completed job: {meta(job)['name']}, condition: {finished}",
                )
                changed = True
            if finished == "Complete":
                done = parse_time((job.get("status") or {}).get("completionTime"))
                last = parse_time(status.get("lastSuccessfulTime"))
                if done is not None and (last is None or done > last):
                    status["lastSuccessfulTime"] = format_time(done)
                    changed = True
    for ref in list(status.get("active") or []):
        if ref.get("uid") in seen:
            continue
        # The cache may simply be slow: only the apiserver can say the Job is gone.
        try:
            ctx.client.get(JOBS, ref["name"], namespace=ref.get("namespace"))
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise
            ctx.events.normal(cronjob, "MissingJob", f"Active job went missing: {ref['name']}")
            _drop_active(cronjob, ref.get("uid", ""))
            changed = True
    return changed


def _cleanup_finished_jobs(ctx: Context, cronjob: Obj, children: list[Obj]) -> bool:
    """Delete the oldest finished Jobs beyond the history limits; return whether status changed."""
    limits = {
        "Complete": spec(cronjob).get("successfulJobsHistoryLimit"),
        "Failed": spec(cronjob).get("failedJobsHistoryLimit"),
    }
    changed = False
    for kind, limit in limits.items():
        if limit is None:
            continue
        finished = [j for j in children if cjobs.finished_type(j) == kind]
        for job in cjobs.oldest_beyond_limit(finished, int(limit)):
            changed = _delete_job(ctx, cronjob, job) or changed
    return changed


def _delete_job(ctx: Context, cronjob: Obj, job: Mapping[str, Any]) -> bool:
    """Delete a Job in the background and drop it from the active list; False if that failed."""
    try:
        ctx.client.delete(
            JOBS,
            meta(job)["name"],
            namespace=meta(job)["namespace"],
            propagation_policy=PropagationPolicy.BACKGROUND,
        )
    except APIStatusError as exc:
        if not exc.is_not_found():
            ctx.events.warning(cronjob, "FailedDelete", f"Deleted job: {exc.message}")
            return False
    _drop_active(cronjob, meta(job)["uid"])
    ctx.events.normal(cronjob, "SuccessfulDelete", f"Deleted job {meta(job)['name']}")
    return True


def _drop_active(cronjob: Obj, uid: str) -> None:
    status = cronjob["status"]
    status["active"] = [ref for ref in status.get("active") or [] if ref.get("uid") != uid]
    if not status["active"]:
        status.pop("active")


CONTROLLER = Controller(
    name="cronjob",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(CRONJOBS),
        Watch(JOBS, keys=owner_key("CronJob")),
    ),
)
