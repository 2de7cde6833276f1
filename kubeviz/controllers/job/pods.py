"""Pure accounting of a Job's pods: the tracking finalizer, finished pods and failure backoff.

Mirrors the pod bookkeeping of ``pkg/controller/job/job_controller.go`` (``isPodFailed``,
``getNewFinishedPods``, ``countReadyPods``, the ``batch.kubernetes.io/job-tracking`` finalizer
and ``status.uncountedTerminatedPods``) and ``backoff_utils.go`` (``getFinishedTime``,
``getRemainingTimeForFailuresCount``).

A Job counts a finished pod exactly once, even though the pod may vanish at any moment: every
pod is created with the tracking finalizer, so it cannot disappear before the controller has
seen it.  A finished pod that still carries the finalizer has not been counted.  The
controller first records its uid in ``status.uncountedTerminatedPods``, then removes the
finalizer, then moves the uid into ``succeeded`` / ``failed``.  A crash between any two
steps leaves enough behind for the next sync to finish the job.

The failure backoff follows the same rule: a sync advances the Job's backoff record with
the finished pods it sees for the first time (``advance_backoff``), and the record is kept
between syncs (in Redis here, in memory upstream).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.timestamps import parse_time

Obj = Mapping[str, Any]

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
#: At most this many uids wait in ``uncountedTerminatedPods`` at a time (upstream's 500).
MAX_UNCOUNTED_PODS = 500
DEFAULT_POD_FAILURE_BACKOFF_SECONDS = 10.0
MAX_POD_FAILURE_BACKOFF_SECONDS = 600.0


def _phase(pod: Obj) -> str:
    return str(_status(pod).get("phase") or "")


def uid_of(obj: Obj) -> str:
    return str(_meta(obj).get("uid") or "")


def has_tracking_finalizer(pod: Obj) -> bool:
    """Tell whether the pod still waits to be counted by its Job."""
    return TRACKING_FINALIZER in (_meta(pod).get("finalizers") or [])


def is_finished(pod: Obj) -> bool:
    return _phase(pod) in ("Succeeded", "Failed")


def is_active(pod: Obj) -> bool:
    """Tell whether the pod runs (or will run) for its Job: not finished, not being deleted."""
    return not is_finished(pod) and not _meta(pod).get("deletionTimestamp")


def is_terminating(pod: Obj) -> bool:
    """Tell whether the pod is being deleted but has not reached a terminal phase."""
    return bool(_meta(pod).get("deletionTimestamp")) and not is_finished(pod)


def only_replace_failed_pods(job: Obj) -> bool:
    return (job.get("spec") or {}).get("podReplacementPolicy") == "Failed"


def is_pod_failed(pod: Obj, job: Obj) -> bool:
    """Tell whether the pod counts as a failure of its Job.

    A pod deleted before it finished counts as failed too (it never gets the chance to reach
    ``Failed``), unless the Job replaces failed pods only.
    """
    if _phase(pod) == "Failed":
        return True
    if only_replace_failed_pods(job):
        return False
    return bool(_meta(pod).get("deletionTimestamp")) and _phase(pod) != "Succeeded"


def is_ready(pod: Obj) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in _status(pod).get("conditions") or []
    )


@dataclass(frozen=True)
class Uncounted:
    """The uids of finished pods whose finalizer is being removed, not yet in the counters."""

    succeeded: frozenset[str] = frozenset()
    failed: frozenset[str] = frozenset()

    @classmethod
    def of(cls, job: Obj) -> Uncounted:
        found = _status(job).get("uncountedTerminatedPods") or {}
        return cls(frozenset(found.get("succeeded") or ()), frozenset(found.get("failed") or ()))


def new_finished_pods(
    pods: Iterable[Obj], job: Obj, *, uncounted: Uncounted, expected_removals: frozenset[str] | set[str]
) -> tuple[list[Obj], list[Obj]]:
    """Return the succeeded and failed pods that no counter or uncounted list holds yet.

    Only pods still carrying the tracking finalizer can be new: a pod without it was counted
    by an earlier sync (``expected_removals`` are pods whose finalizer this controller has
    removed although the cache does not show it yet).
    """
    succeeded: list[Obj] = []
    failed: list[Obj] = []
    for pod in pods:
        uid = uid_of(pod)
        if not has_tracking_finalizer(pod) or uid in expected_removals:
            continue
        if _phase(pod) == "Succeeded" and uid not in uncounted.succeeded:
            succeeded.append(pod)
        elif is_pod_failed(pod, job) and uid not in uncounted.failed:
            failed.append(pod)
    return succeeded, failed


def finished_time(pod: Obj) -> datetime:
    """Return when a pod finished: its containers' last exit, else when it became unready.

    A pod deleted without either is taken to have finished when its deletion began; failing
    everything else, its creation time is used.
    """
    ends: list[datetime] = []
    statuses = _status(pod).get("containerStatuses") or []
    for cs in statuses:
        end = parse_time(((cs.get("state") or {}).get("terminated") or {}).get("finishedAt"))
        if end is None:
            ends = []
            break
        ends.append(end)
    if ends:
        return max(ends)
    for cond in _status(pod).get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("status") == "False":
            moment = parse_time(cond.get("lastTransitionTime"))
            if moment is not None:
                return moment
    deleted = parse_time(_meta(pod).get("deletionTimestamp"))
    if deleted is not None:
        return deleted - timedelta(seconds=int(_meta(pod).get("deletionGracePeriodSeconds") or 0))
    created = parse_time(_meta(pod).get("creationTimestamp"))
    return created if created is not None else datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Backoff:
    """Consecutive pod failures since the last success, and when the latest one happened."""

    failures: int = 0
    last_failure: datetime | None = None

    def remaining(self, now: datetime, *, base: float, cap: float) -> float:
        """Return the seconds to wait before creating the next pod (0 when none).

        The wait doubles with each consecutive failure: ``base``, ``2*base``, ... up to ``cap``.
        """
        if self.failures == 0 or self.last_failure is None:
            return 0.0
        wait = base
        for _ in range(1, self.failures):
            wait *= 2
            if wait >= cap:
                wait = cap
                break
        elapsed = (now - self.last_failure).total_seconds()
        return max(0.0, wait - elapsed)


def advance_backoff(previous: Backoff, new_succeeded: list[Obj], new_failed: list[Obj]) -> Backoff:
    """Return the backoff after this sync's newly finished pods (upstream's ``newBackoffRecord``).

    Failures add up; a success resets the count, keeping only failures that finished after
    the latest success.
    """
    if not new_succeeded:
        if not new_failed:
            return previous
        return Backoff(previous.failures + len(new_failed), max(finished_time(x) for x in new_failed))
    last_success = max(finished_time(x) for x in new_succeeded)
    after = [t for t in (finished_time(x) for x in new_failed) if t > last_success]
    return Backoff(len(after), max(after) if after else None)
