"""The Job controller's loop: run a Job's pods until enough succeed, or fail the Job.

Mirrors ``syncJob``, ``manageJob`` and ``trackJobStatusAndRemoveFinalizers`` of
``pkg/controller/job/job_controller.go``:

* pods come from the template (``generateName: <job>-``, the ``batch.kubernetes.io/job-name``
  and ``controller-uid`` labels the apiserver put there, the ``batch.kubernetes.io/job-tracking``
  finalizer) in slow-start batches under expectations, at most 500 a sync, and after a pod
  failure only once the failure backoff (10 s doubling to 10 min, scaled by the cluster's
  speed) has passed;
* finished pods are counted through the tracking finalizer and ``uncountedTerminatedPods``
  (see ``pods.py``), and stay with the Job;
* success is announced first as ``SuccessCriteriaMet``, failure (``backoffLimit``,
  ``activeDeadlineSeconds``) as ``FailureTarget`` while the remaining pods are deleted; the
  final ``Complete`` / ``Failed`` condition, with the same reason, follows once no pod is
  terminating, with the ``Completed`` or ``BackoffLimitExceeded`` / ``DeadlineExceeded`` event;
* ``spec.suspend`` deletes the running pods and sets the ``Suspended`` condition; resuming
  restarts the ``activeDeadlineSeconds`` clock, which is the user's wall-clock time and so is
  never scaled by the cluster's speed.

Simplified: an Indexed Job runs as a NonIndexed one (no completion indexes); no pod failure
policy, success policy, per-index backoff or ``managedBy``; an orphan pod adopted through the
selector does not get the tracking finalizer, so its completion is not counted; pod events are
not batched for a second before a sync.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.rest import JOBS, PODS, APIStatusError, PatchType
from kubeviz.controllers.base import RESYNC_SECONDS, Context, Controller, Observation, Watch, owner_key
from kubeviz.controllers.job import helpers
from kubeviz.controllers.job import pods as jobpods
from kubeviz.controllers.job.tracking import BackoffStore, FinalizerExpectations
from kubeviz.controllers.objects import meta, spec
from kubeviz.controllers.ownership import claim, controller_of, is_controlled_by
from kubeviz.controllers.podcontrol import create_pod, delete_pod, pod_from_template
from kubeviz.controllers.replicaset import helpers as rshelpers
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = dict[str, Any]

JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
#: Upstream waits at least this long before a delayed sync (``syncJobBatchPeriod``).
MIN_REQUEUE_SECONDS = 1.0


class _StaleJob(Exception):
    """The cached Job is older than the stored one; its newer version's event syncs again."""


# --- events into keys -------------------------------------------------------------------------

#: Creates in flight at once within a slow-start batch (upstream: one goroutine each).
CREATE_PARALLELISM = 8


def pod_keys(pod: Mapping[str, Any]) -> list[str]:
    """Map a pod to its Job's key.

    Its controller if that is a Job; an orphan still holding the tracking finalizer maps to
    the Job its ``job-name`` label names, so that the finalizer is removed.
    """
    keys = owner_key("Job")(pod)
    if keys or controller_of(pod) is not None or not jobpods.has_tracking_finalizer(pod):
        return keys
    name = (meta(pod).get("labels") or {}).get(JOB_NAME_LABEL)
    return [f"{meta(pod).get('namespace', '')}/{name}"] if name else []


def observe_pod(seen: Observation) -> None:
    """Lower the Job's expectations as its pods come, go and lose their finalizer."""
    keys = pod_keys(seen.obj)
    if not keys:
        return
    key, pod, old = keys[0], seen.obj, seen.old
    deleting = bool(meta(pod).get("deletionTimestamp"))
    if seen.event == "ADDED" and not deleting:
        seen.expectations.creation_observed(key)
    elif seen.event == "DELETED" or (deleting and not (old and meta(old).get("deletionTimestamp"))):
        seen.expectations.deletion_observed(key)
    if seen.event == "DELETED" or (
        not jobpods.has_tracking_finalizer(pod) and (old is None or jobpods.has_tracking_finalizer(old))
    ):
        FinalizerExpectations(cluster=seen.cluster).removal_observed(key, jobpods.uid_of(pod))


# --- one sync ---------------------------------------------------------------------------------


@dataclass
class _Run:
    """One sync's view of a Job: its pods, its counters and the status it will write."""

    key: str
    job: Obj
    status: Obj
    pods: list[Obj]
    active_pods: list[Obj]
    expected: frozenset[str]
    active: int
    ready: int
    terminating: int
    succeeded: int
    failed: int
    #: The failure backoff, advanced by the pods this sync sees finished for the first time.
    backoff: jobpods.Backoff
    fresh_finished: bool
    finished: dict[str, str] | None = None

    @classmethod
    def begin(
        cls, key: str, job: Obj, pods: list[Obj], *, expected: frozenset[str], backoff: jobpods.Backoff
    ) -> _Run:
        status = copy.deepcopy(job.get("status") or {})
        uncounted = jobpods.Uncounted.of(job)
        new_ok, new_failed = jobpods.new_finished_pods(
            pods, job, uncounted=uncounted, expected_removals=expected
        )
        active_pods = [p for p in pods if jobpods.is_active(p)]
        return cls(
            key=key,
            job=job,
            status=status,
            pods=pods,
            active_pods=active_pods,
            expected=expected,
            active=len(active_pods),
            ready=sum(1 for p in active_pods if jobpods.is_ready(p)),
            terminating=sum(1 for p in pods if jobpods.is_terminating(p)),
            succeeded=int(status.get("succeeded") or 0) + len(new_ok) + len(uncounted.succeeded),
            failed=int(status.get("failed") or 0) + len(new_failed) + len(uncounted.failed),
            backoff=jobpods.advance_backoff(backoff, new_ok, new_failed),
            fresh_finished=bool(new_ok or new_failed),
        )

    @property
    def working(self) -> Obj:
        """The Job as this sync sees it, with the status it is building."""
        return {**self.job, "status": self.status}


def sync(ctx: Context, key: str) -> None:
    """Reconcile one Job: create or delete its pods, count them, and decide how it ends."""
    namespace, name = split_key(key)
    job = ctx.lister(JOBS).get(namespace, name)
    candidates = ctx.lister(PODS).list(namespace)
    finalizers = FinalizerExpectations(cluster=ctx.cluster)
    backoffs = BackoffStore(cluster=ctx.cluster)
    if job is None:
        ctx.expectations.forget(key)
        finalizers.forget(key)
        backoffs.forget(key)
        _remove_tracking_finalizers(ctx, key, _strays(candidates, name=name, job=None))
        return
    _remove_tracking_finalizers(ctx, key, _strays(candidates, name=name, job=job))
    if helpers.finished_condition(job) is not None:
        backoffs.forget(key)
        # A finished Job counts nothing more; free whatever pod still waits on it.
        leftovers = [p for p in candidates if is_controlled_by(p, job) and jobpods.has_tracking_finalizer(p)]
        _remove_tracking_finalizers(ctx, key, leftovers)
        return
    satisfied = ctx.expectations.satisfied(key)
    owned = claim(ctx.client, PODS, owner=job, candidates=candidates, selector=spec(job).get("selector"))
    run = _Run.begin(key, job, owned, expected=finalizers.expected(key), backoff=backoffs.get(key))
    try:
        error = _reconcile(ctx, run, satisfied=satisfied)
    except _StaleJob:
        return
    if error is not None:
        raise RuntimeError(error)


def _reconcile(ctx: Context, run: _Run, *, satisfied: bool) -> str | None:
    """Run syncJob's body on a prepared view; return the first pod error, if any."""
    now = ctx.now()
    if not run.status.get("startTime") and not helpers.is_suspended(run.job):
        run.status["startTime"] = format_time(now)
    run.finished = _finish_target(ctx, run, now)
    error: str | None = None
    if run.finished is not None:
        deleted, deleted_ready, error = _delete_active_pods(ctx, run)
        if deleted != run.active or not satisfied:
            run.finished = None  # pods not yet gone, or not yet seen: decide next time
        run.active -= deleted
        run.terminating += deleted
        run.ready -= deleted_ready
    else:
        managed = satisfied and not meta(run.job).get("deletionTimestamp")
        if managed:
            error = _manage(ctx, run, now)
        if helpers.is_complete(run.working, active=run.active, succeeded=run.succeeded):
            run.finished = helpers.success_criteria_met_condition(now)
        elif managed:
            _update_suspended(ctx, run, now)
    run.status["active"] = run.active
    run.status["ready"] = run.ready
    run.status["terminating"] = run.terminating
    _track_and_flush(ctx, run, now)
    return error


def _finish_target(ctx: Context, run: _Run, now: datetime) -> dict[str, str] | None:
    """Return how the Job ends, if it does: an interim condition, or Failed after FailureTarget."""
    conditions = run.status.get("conditions") or []
    met = _true_condition(conditions, helpers.SUCCESS_CRITERIA_MET)
    if met is not None:
        return dict(met)
    target = _true_condition(conditions, helpers.FAILURE_TARGET)
    if target is not None:
        return helpers.terminal_condition(target, now=now)
    working = run.working
    if helpers.past_backoff_limit(working, failed=run.failed, pods=run.pods):
        return helpers.backoff_limit_exceeded_condition(now)
    if helpers.past_active_deadline(working, now):
        return helpers.deadline_exceeded_condition(now)
    deadline = spec(working).get("activeDeadlineSeconds")
    started = parse_time(run.status.get("startTime"))
    if deadline is not None and started is not None and not helpers.is_suspended(working):
        # The user's deadline is wall-clock time: not scaled by the cluster's speed.
        left = float(deadline) - (now - started).total_seconds()
        ctx.requeue_after(run.key, max(left, 0.0))
    return None


# --- pods -------------------------------------------------------------------------------------


def _manage(ctx: Context, run: _Run, now: datetime) -> str | None:
    """Create or delete pods toward the active target (manageJob); return the first error."""
    job = run.working
    surplus = helpers.pods_to_delete(job, active=run.active, succeeded=run.succeeded)
    if surplus > 0:
        victims = rshelpers.get_pods_to_delete(run.active_pods, [], surplus, now=now)
        ctx.expectations.expect_deletions(run.key, len(victims))
        return _delete_job_pods(ctx, run, victims)
    count = helpers.pods_to_create(
        job, active=run.active, succeeded=run.succeeded, terminating=run.terminating
    )
    if count <= 0:
        return None
    wait = run.backoff.remaining(
        now,
        base=ctx.scaled(jobpods.DEFAULT_POD_FAILURE_BACKOFF_SECONDS),
        cap=ctx.scaled(jobpods.MAX_POD_FAILURE_BACKOFF_SECONDS),
    )
    if wait > 0:
        ctx.requeue_after(run.key, max(wait, ctx.scaled(MIN_REQUEUE_SECONDS)))
        return None
    ctx.expectations.expect_creations(run.key, count)
    template = _pod_template(job)

    def create_one() -> None:
        create_pod(ctx.client, ctx.events, owner=run.job, pod=pod_from_template(template, owner=run.job))

    created, error = rshelpers.slow_start_batch(
        count, rshelpers.SLOW_START_INITIAL_BATCH_SIZE, create_one, parallel=CREATE_PARALLELISM
    )
    if created < count:
        ctx.expectations.lower(run.key, add=count - created)  # those will never be seen
    run.active += created
    return None if error is None else _message(error)


def _pod_template(job: Mapping[str, Any]) -> Obj:
    """Return the Job's pod template with the tracking finalizer added."""
    template = copy.deepcopy(spec(job).get("template") or {})
    tmeta = template.setdefault("metadata", {})
    finalizers = list(tmeta.get("finalizers") or [])
    if jobpods.TRACKING_FINALIZER not in finalizers:
        finalizers.append(jobpods.TRACKING_FINALIZER)
    tmeta["finalizers"] = finalizers
    return template


def _delete_job_pods(ctx: Context, run: _Run, victims: list[Obj]) -> str | None:
    """Delete pods the Job no longer wants (not failures): free them first, so none is counted."""
    first: str | None = None
    for pod in victims:
        try:
            if jobpods.has_tracking_finalizer(pod):
                _patch_out_finalizer(ctx, pod)
            if not delete_pod(ctx.client, ctx.events, owner=run.job, pod=pod):
                ctx.expectations.deletion_observed(run.key)  # already gone: no event will come
        except APIStatusError as exc:
            ctx.expectations.deletion_observed(run.key)
            if not exc.is_not_found():
                first = first or exc.message
                continue
        run.active -= 1
        run.terminating += 1
        run.ready -= 1 if jobpods.is_ready(pod) else 0
    return first


def _delete_active_pods(ctx: Context, run: _Run) -> tuple[int, int, str | None]:
    """Delete every running pod of a failing Job, keeping finalizers so each counts as failed.

    Return how many are gone or going, how many of those were ready, and the first error.
    """
    deleted = ready = 0
    first: str | None = None
    for pod in run.active_pods:
        try:
            delete_pod(ctx.client, ctx.events, owner=run.job, pod=pod)
        except APIStatusError as exc:
            first = first or exc.message
            continue
        deleted += 1
        ready += 1 if jobpods.is_ready(pod) else 0
    return deleted, ready, first


def _strays(candidates: list[Obj], *, name: str, job: Mapping[str, Any] | None) -> list[Obj]:
    """Return pods holding the tracking finalizer for a Job that no longer owns them.

    Their Job is gone, or was replaced by a namesake, or the garbage collector took the
    owner reference away: nobody will ever count them, so nothing should keep them.
    """
    out: list[Obj] = []
    uid = meta(job).get("uid") if job is not None else None
    for pod in candidates:
        if not jobpods.has_tracking_finalizer(pod):
            continue
        ref = controller_of(pod)
        if ref is None:
            if (meta(pod).get("labels") or {}).get(JOB_NAME_LABEL) == name:
                out.append(pod)
        elif ref.get("kind") == "Job" and ref.get("name") == name and ref.get("uid") != uid:
            out.append(pod)
    return out


def _patch_out_finalizer(ctx: Context, pod: Mapping[str, Any]) -> None:
    ctx.client.patch(
        PODS,
        meta(pod)["name"],
        {"metadata": {"$deleteFromPrimitiveList/finalizers": [jobpods.TRACKING_FINALIZER]}},
        namespace=meta(pod).get("namespace"),
        patch_type=PatchType.STRATEGIC,
    )


def _remove_tracking_finalizers(ctx: Context, key: str, victims: list[Obj]) -> tuple[list[bool], str | None]:
    """Remove the tracking finalizer from pods; return which succeeded and the first error.

    A pod already gone counts as done.  The removals are recorded as expected first, so a
    sync that runs before the cache shows them does not count the pods again.
    """
    if not victims:
        return [], None
    expectations = FinalizerExpectations(cluster=ctx.cluster)
    expectations.expect_removed(key, [jobpods.uid_of(p) for p in victims])
    done: list[bool] = []
    first: str | None = None
    for pod in victims:
        try:
            _patch_out_finalizer(ctx, pod)
        except APIStatusError as exc:
            expectations.removal_observed(key, jobpods.uid_of(pod))
            if not exc.is_not_found():
                first = first or exc.message
                done.append(False)
                continue
        done.append(True)
    return done, first


# --- status -----------------------------------------------------------------------------------


def _track_and_flush(ctx: Context, run: _Run, now: datetime) -> None:
    """Count finished pods through the uncounted list, then write the status and end the Job.

    The status is written before any finalizer is removed (it then lists every pod about to
    be freed), and again after, with those pods moved into the counters.
    """
    status = run.status
    with_finalizer = {
        jobpods.uid_of(p)
        for p in run.pods
        if jobpods.has_tracking_finalizer(p) and jobpods.uid_of(p) not in run.expected
    }
    _clean_uncounted(status, with_finalizer)
    previous = jobpods.Uncounted.of(run.job)
    uncounted = status.get("uncountedTerminatedPods") or {}
    ok_uids: list[str] = list(uncounted.get("succeeded") or [])
    failed_uids: list[str] = list(uncounted.get("failed") or [])
    freeing: list[Obj] = []
    full = False
    ending_badly = run.finished is not None and run.finished["type"] != helpers.SUCCESS_CRITERIA_MET
    for pod in run.pods:
        uid = jobpods.uid_of(pod)
        if not jobpods.has_tracking_finalizer(pod) or uid in run.expected:
            continue
        failed = jobpods.is_pod_failed(pod, run.job)
        phase = (pod.get("status") or {}).get("phase")
        if not (meta(run.job).get("deletionTimestamp") or run.finished or phase == "Succeeded" or failed):
            continue
        freeing.append(pod)
        if phase == "Succeeded" and uid not in previous.failed:
            if uid not in ok_uids:
                ok_uids.append(uid)
        elif (failed or ending_badly) and uid not in failed_uids:
            failed_uids.append(uid)
        if len(ok_uids) + len(failed_uids) >= jobpods.MAX_UNCOUNTED_PODS:
            full = True  # the next sync counts the rest
            break
    status["uncountedTerminatedPods"] = {"succeeded": ok_uids, "failed": failed_uids}
    _announce_interim(run, now)
    _flush(ctx, run)
    if run.fresh_finished:
        # Now that those pods are listed as uncounted, no later sync sees them as new.
        BackoffStore(cluster=ctx.cluster).put(run.key, run.backoff)
    done, error = _remove_tracking_finalizers(ctx, run.key, freeing)
    for pod, ok in zip(freeing, done, strict=True):
        if ok:
            with_finalizer.discard(jobpods.uid_of(pod))
    _clean_uncounted(status, with_finalizer)
    if error is not None:
        _flush(ctx, run)
        raise RuntimeError(f"removing tracking finalizer: {error}")
    finished = not full and _enact_finished(run, now)
    _flush(ctx, run)
    if finished and run.finished is not None:
        _record_finished(ctx, run, run.finished)


def _announce_interim(run: _Run, now: datetime) -> None:
    """Add the interim condition, and turn ``run.finished`` into the final one it leads to."""
    if run.finished is None:
        return
    conditions = run.status.setdefault("conditions", [])
    if run.finished["type"] == helpers.FAILURE_TARGET:
        conditions.append(run.finished)
        run.finished = helpers.terminal_condition(run.finished, now=now)
    elif run.finished["type"] == helpers.SUCCESS_CRITERIA_MET:
        if _true_condition(conditions, helpers.SUCCESS_CRITERIA_MET) is None:
            conditions.append(run.finished)
        run.finished = helpers.terminal_condition(run.finished, now=now)


def _enact_finished(run: _Run, now: datetime) -> bool:
    """Add the final condition once nothing is left uncounted or terminating."""
    final = run.finished
    if final is None:
        return False
    uncounted = run.status.get("uncountedTerminatedPods") or {}
    if uncounted.get("succeeded") or uncounted.get("failed") or run.terminating > 0:
        return False
    conditions = run.status.setdefault("conditions", [])
    _ensure_condition(conditions, final["type"], "True", final["reason"], final["message"], now=now)
    if final["type"] == helpers.COMPLETE:
        done = _true_condition(conditions, helpers.COMPLETE)
        run.status["completionTime"] = (done or final)["lastTransitionTime"]
    return True


def _record_finished(ctx: Context, run: _Run, final: Mapping[str, str]) -> None:
    job = run.job
    if final["type"] == helpers.COMPLETE:
        completions = spec(job).get("completions")
        if completions is not None and int(run.status.get("succeeded") or 0) > int(completions):
            ctx.events.warning(
                job, "TooManySucceededPods", "Too many succeeded pods running after completion count reached"
            )
        ctx.events.normal(job, "Completed", "Job completed")
    else:
        ctx.events.warning(job, final["reason"], final["message"])


def _update_suspended(ctx: Context, run: _Run, now: datetime) -> None:
    """Keep the Suspended condition in step with ``spec.suspend``; resuming restarts the clock."""
    conditions = run.status.setdefault("conditions", [])
    if helpers.is_suspended(run.job):
        if _ensure_condition(conditions, helpers.SUSPENDED, "True", "JobSuspended", "Job suspended", now=now):
            ctx.events.normal(run.job, "Suspended", "Job suspended")
    elif _ensure_condition(conditions, helpers.SUSPENDED, "False", "JobResumed", "Job resumed", now=now):
        ctx.events.normal(run.job, "Resumed", "Job resumed")
        run.status["startTime"] = format_time(now)


def _clean_uncounted(status: Obj, with_finalizer: set[str]) -> None:
    """Move uncounted uids whose pods lost their finalizer into the counters."""
    uncounted = status.get("uncountedTerminatedPods") or {}
    for field in ("succeeded", "failed"):
        uids = list(uncounted.get(field) or [])
        keep = [u for u in uids if u in with_finalizer]
        if len(keep) != len(uids):
            status[field] = int(status.get(field) or 0) + len(uids) - len(keep)
            uncounted[field] = keep
    if uncounted:
        status["uncountedTerminatedPods"] = uncounted


def _true_condition(conditions: list[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    for cond in conditions:
        if cond.get("type") == kind and cond.get("status") == "True":
            return cond
    return None


def _ensure_condition(
    conditions: list[Any], kind: str, status: str, reason: str, message: str, *, now: datetime
) -> bool:
    """Set a condition (ensureJobConditionStatus); return whether the list changed.

    A condition that does not exist is only added when True: going from nothing to False
    says nothing.
    """
    stamp = format_time(now)
    fresh = {
        "type": kind,
        "status": status,
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }
    for i, cond in enumerate(conditions):
        if cond.get("type") != kind:
            continue
        if (cond.get("status"), cond.get("reason"), cond.get("message")) == (status, reason, message):
            return False
        conditions[i] = fresh
        return True
    if status == "False":
        return False
    conditions.append(fresh)
    return True


def _normalized(status: Mapping[str, Any]) -> Obj:
    """Return the status as the apiserver would serialize it (zero counters omitted)."""
    out = dict(status)
    for field in ("active", "succeeded", "failed"):
        if not out.get(field):
            out.pop(field, None)
    if not out.get("conditions"):
        out.pop("conditions", None)
    uncounted = {k: v for k, v in (out.get("uncountedTerminatedPods") or {}).items() if v}
    out["uncountedTerminatedPods"] = uncounted
    return out


def _flush(ctx: Context, run: _Run) -> None:
    """Write the status if it changed, and carry on from what the apiserver stored."""
    status = _normalized(run.status)
    if status == (run.job.get("status") or {}):
        return
    try:
        run.job = ctx.client.update_status(JOBS, {**run.job, "status": status})
    except APIStatusError as exc:
        if exc.is_conflict() or exc.is_not_found():
            raise _StaleJob from exc
        raise


def _message(error: Exception) -> str:
    return error.message if isinstance(error, APIStatusError) else str(error)


CONTROLLER = Controller(
    name="job",
    resync_seconds=RESYNC_SECONDS,
    sync=sync,
    watches=(
        Watch(JOBS),
        Watch(PODS, keys=pod_keys, observe=observe_pod),
    ),
)
