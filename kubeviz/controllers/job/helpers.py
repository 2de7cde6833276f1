"""Pure arithmetic of the Job controller.

Mirrors ``pkg/controller/job/job_controller.go`` (``manageJob``'s active-pod target,
``pastBackoffLimitOnFailure``, ``pastActiveDeadline``, the finished conditions) and
``pkg/controller/ttlafterfinished`` (when a finished Job may be deleted).

Conditions follow v1.36, where a terminal state is announced in two steps: first the interim
``SuccessCriteriaMet`` / ``FailureTarget`` condition, and ``Complete`` / ``Failed`` (with the
same reason and message) once no pod is still terminating.

Simplified: non-indexed Jobs only; no pod failure policy, success policy, or
``maxFailedIndexes``; the 500-pods-per-sync cap is applied to creations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubeviz.controllers.objects import spec as _spec
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

DEFAULT_BACKOFF_LIMIT = 6
MAX_POD_CREATE_DELETE_PER_SYNC = 500

COMPLETE = "Complete"
FAILED = "Failed"
SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
FAILURE_TARGET = "FailureTarget"
SUSPENDED = "Suspended"

REASON_COMPLETIONS_REACHED = "CompletionsReached"
MESSAGE_COMPLETIONS_REACHED = "Reached expected number of succeeded pods"
REASON_BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
MESSAGE_BACKOFF_LIMIT_EXCEEDED = "Job has reached the specified backoff limit"
REASON_DEADLINE_EXCEEDED = "DeadlineExceeded"
MESSAGE_DEADLINE_EXCEEDED = "Job was active longer than specified deadline"


@dataclass(frozen=True)
class PodCounts:
    """A Job's pods by state; terminating pods are neither active nor finished yet."""

    active: int = 0
    succeeded: int = 0
    failed: int = 0
    terminating: int = 0


def count_pods(pods: Iterable[Obj]) -> PodCounts:
    """Count a Job's pods by phase, keeping pods being deleted apart from active ones."""
    active = succeeded = failed = terminating = 0
    for pod in pods:
        phase = _status(pod).get("phase")
        if phase == "Succeeded":
            succeeded += 1
        elif phase == "Failed":
            failed += 1
        elif (pod.get("metadata") or {}).get("deletionTimestamp"):
            terminating += 1
        else:
            active += 1
    return PodCounts(active, succeeded, failed, terminating)


def is_suspended(job: Obj) -> bool:
    """Tell whether ``spec.suspend`` is set: a suspended Job keeps no pods running."""
    return bool(_spec(job).get("suspend"))


def want_active(job: Obj, *, active: int, succeeded: int) -> int:
    """Return how many pods should be running now.

    With ``completions`` the target is the remaining completions capped by parallelism.
    Without it (a work queue), any success means the work is done: keep what runs, start
    nothing new; before that, run ``parallelism`` pods.
    """
    if is_suspended(job):
        return 0
    parallelism = int(_spec(job).get("parallelism", 1))
    completions = _spec(job).get("completions")
    if completions is None:
        return active if succeeded > 0 else parallelism
    return max(0, min(int(completions) - succeeded, parallelism))


def pods_to_create(job: Obj, *, active: int, succeeded: int, terminating: int = 0) -> int:
    """Return how many pods this sync creates (at most 500, never negative).

    Under ``podReplacementPolicy: Failed`` a pod still terminating has not yet been replaced,
    so it counts against the target until it is fully gone.
    """
    diff = want_active(job, active=active, succeeded=succeeded) - active
    if _spec(job).get("podReplacementPolicy") == "Failed":
        diff -= terminating
    return max(0, min(diff, MAX_POD_CREATE_DELETE_PER_SYNC))


def pods_to_delete(job: Obj, *, active: int, succeeded: int) -> int:
    """Return how many active pods this sync removes (parallelism lowered, or suspended)."""
    surplus = active - want_active(job, active=active, succeeded=succeeded)
    return max(0, min(surplus, MAX_POD_CREATE_DELETE_PER_SYNC))


def is_complete(job: Obj, *, active: int, succeeded: int) -> bool:
    """Tell whether the success criteria are met and no pod is still running."""
    completions = _spec(job).get("completions")
    if completions is None:
        return succeeded > 0 and active == 0
    return succeeded >= int(completions) and active == 0


def _backoff_limit(job: Obj) -> int:
    value = _spec(job).get("backoffLimit")
    return DEFAULT_BACKOFF_LIMIT if value is None else int(value)


def past_backoff_limit(job: Obj, *, failed: int, pods: Iterable[Obj] = ()) -> bool:
    """Tell whether the Job has failed more often than ``backoffLimit`` allows.

    Failed pods count directly: the limit is the number of retries, so the Job fails on
    failure ``limit + 1``.  With ``restartPolicy: OnFailure`` pods restart in place instead
    of failing, so container restarts of running and pending pods count too, and reaching
    the limit (or any restart when the limit is 0) is enough.
    """
    limit = _backoff_limit(job)
    if failed > limit:
        return True
    template_spec = (_spec(job).get("template") or {}).get("spec") or {}
    if template_spec.get("restartPolicy") != "OnFailure":
        return False
    restarts = sum(
        int(s.get("restartCount") or 0)
        for pod in pods
        if _status(pod).get("phase") in ("Running", "Pending")
        for s in [
            *(_status(pod).get("initContainerStatuses") or []),
            *(_status(pod).get("containerStatuses") or []),
        ]
    )
    return restarts > 0 if limit == 0 else restarts >= limit


def past_active_deadline(job: Obj, now: datetime) -> bool:
    """Tell whether the Job has run for ``activeDeadlineSeconds`` or longer since it started.

    A suspended Job, or one not yet started, has no running clock.
    """
    deadline = _spec(job).get("activeDeadlineSeconds")
    started = parse_time(_status(job).get("startTime"))
    if deadline is None or started is None or is_suspended(job):
        return False
    return now - started >= timedelta(seconds=int(deadline))


def new_condition(kind: str, reason: str, message: str, *, now: datetime) -> dict[str, str]:
    """Build a True Job condition probed and transitioned at ``now``."""
    stamp = format_time(now)
    return {
        "type": kind,
        "status": "True",
        "lastProbeTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def success_criteria_met_condition(now: datetime) -> dict[str, str]:
    """Build the interim condition that says the Job has succeeded, pods still winding down."""
    return new_condition(
        SUCCESS_CRITERIA_MET, REASON_COMPLETIONS_REACHED, MESSAGE_COMPLETIONS_REACHED, now=now
    )


def failure_target_condition(reason: str, message: str, *, now: datetime) -> dict[str, str]:
    """Build the interim condition that says the Job has failed, pods still winding down."""
    return new_condition(FAILURE_TARGET, reason, message, now=now)


def backoff_limit_exceeded_condition(now: datetime) -> dict[str, str]:
    """Build the FailureTarget condition for a Job out of retries."""
    return failure_target_condition(REASON_BACKOFF_LIMIT_EXCEEDED, MESSAGE_BACKOFF_LIMIT_EXCEEDED, now=now)


def deadline_exceeded_condition(now: datetime) -> dict[str, str]:
    """Build the FailureTarget condition for a Job that ran past its active deadline."""
    return failure_target_condition(REASON_DEADLINE_EXCEEDED, MESSAGE_DEADLINE_EXCEEDED, now=now)


def terminal_condition(interim: Obj, *, now: datetime) -> dict[str, str]:
    """Build the final Complete/Failed condition that follows an interim one.

    The final condition repeats the interim reason and message, so a reader of either sees
    why the Job ended.
    """
    kind = COMPLETE if interim.get("type") == SUCCESS_CRITERIA_MET else FAILED
    return new_condition(kind, str(interim.get("reason", "")), str(interim.get("message", "")), now=now)


def finished_condition(job: Obj) -> Obj | None:
    """Return the Job's True Complete or Failed condition, if it has finished."""
    for cond in _status(job).get("conditions") or []:
        if cond.get("type") in (COMPLETE, FAILED) and cond.get("status") == "True":
            return cond
    return None


def ttl_expired(job: Obj, now: datetime) -> bool:
    """Tell whether a finished Job has outlived ``ttlSecondsAfterFinished`` and may be deleted.

    The clock starts at the finishing condition's ``lastTransitionTime``; an unfinished Job,
    or one without a TTL, never expires.
    """
    ttl = _spec(job).get("ttlSecondsAfterFinished")
    cond = finished_condition(job)
    if ttl is None or cond is None:
        return False
    finished = parse_time(cond.get("lastTransitionTime"))
    return finished is not None and finished + timedelta(seconds=int(ttl)) <= now
