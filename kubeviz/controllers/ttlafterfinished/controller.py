"""The TTL-after-finished controller's loop: delete a finished Job when its TTL runs out.

Mirrors ``processJob`` of ``pkg/controller/ttlafterfinished/ttlafterfinished_controller.go``.
The clock starts at the Job's ``Complete`` / ``Failed`` condition.  Until the TTL is up the
Job is looked at again when it will be; then the Job is read fresh from the apiserver (the
cache or the TTL may be stale) and, if it has still expired, deleted with ``Foreground``
propagation and its uid as a precondition, so the garbage collector removes its pods first.

The TTL is the user's wall-clock time, not a Kubernetes default, so the cluster's speed does
not scale it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from kubeviz.client.informer import split_key
from kubeviz.client.rest import JOBS, APIStatusError, Preconditions, PropagationPolicy
from kubeviz.controllers.base import Context, Controller, Watch
from kubeviz.controllers.job import helpers
from kubeviz.controllers.objects import meta, spec
from kubeviz.controllers.timestamps import parse_time


def seconds_left(job: Mapping[str, Any], now: datetime) -> float | None:
    """Return the seconds until a finished Job may be deleted (<= 0: now), or None if never."""
    if meta(job).get("deletionTimestamp") or spec(job).get("ttlSecondsAfterFinished") is None:
        return None
    cond = helpers.finished_condition(job)
    finished = parse_time(cond.get("lastTransitionTime")) if cond is not None else None
    if finished is None:
        return None
    ttl = int(spec(job)["ttlSecondsAfterFinished"])
    return ttl - (now - finished).total_seconds()


def sync(ctx: Context, key: str) -> None:
    """Delete one finished Job whose TTL has run out, or look again when it will have."""
    namespace, name = split_key(key)
    job = ctx.lister(JOBS).get(namespace, name)
    if job is None or not _expired(ctx, key, job):
        return
    try:
        fresh = ctx.client.get(JOBS, name, namespace=namespace)
    except APIStatusError as exc:
        if exc.is_not_found():
            return
        raise
    if not _expired(ctx, key, fresh):
        return
    try:
        ctx.client.delete(
            JOBS,
            name,
            namespace=namespace,
            propagation_policy=PropagationPolicy.FOREGROUND,
            preconditions=Preconditions(uid=meta(fresh)["uid"]),
        )
    except APIStatusError as exc:
        if not (exc.is_not_found() or exc.is_conflict()):  # gone, or replaced by a namesake
            raise


def _expired(ctx: Context, key: str, job: Mapping[str, Any]) -> bool:
    left = seconds_left(job, ctx.now())
    if left is None:
        return False
    if left > 0:
        ctx.requeue_after(key, left)
        return False
    return True


CONTROLLER = Controller(name="ttl-after-finished", sync=sync, watches=(Watch(JOBS),))
