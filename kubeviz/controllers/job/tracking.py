"""What the Job controller remembers between syncs: expected finalizer removals and backoff.

Mirrors ``uidTrackingExpectations`` of ``pkg/controller/job/tracking_utils.go``.  After a sync
removes the ``batch.kubernetes.io/job-tracking`` finalizer from a finished pod and counts it,
the informer cache may still show the pod with its finalizer for a moment.  A sync in that
moment must not count the pod again, so the uids are remembered until the watch delivers the
pod without its finalizer (or its deletion).

The record lives in Redis because the sync and the informer run in different processes:
``{KUBEVIZ_REDIS_PREFIX}:expect-finalizers:{cluster}:{namespace/name}`` is a set of pod uids.
It expires after 5 minutes without news, so a lost event cannot hide a pod for ever.

The failure backoff record (upstream's ``backoffStore``, kept in the controller's memory) is
``{KUBEVIZ_REDIS_PREFIX}:job-backoff:{cluster}:{namespace/name}``: ``<failures> <epoch
seconds of the last failure>``, dropped when the Job finishes or goes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis
from kubeviz.controllers.job.pods import Backoff

TIMEOUT_SECONDS = 300
#: A backoff record nobody touched for a day is forgotten (the Job is long quiet).
BACKOFF_RECORD_SECONDS = 86400


class FinalizerExpectations:
    """The Job controller's expected finalizer removals in one cluster."""

    def __init__(self, *, cluster: str, client: redis.Redis | None = None) -> None:
        self._redis = client if client is not None else default_redis()
        self._prefix = f"{settings.KUBEVIZ_REDIS_PREFIX}:expect-finalizers:{cluster}"

    def _key(self, job_key: str) -> str:
        return f"{self._prefix}:{job_key}"

    def expect_removed(self, job_key: str, uids: Iterable[str]) -> None:
        """Remember that the finalizers of these pods are about to be removed."""
        members = [u for u in uids if u]
        if not members:
            return
        pipe = self._redis.pipeline()
        pipe.sadd(self._key(job_key), *members)
        pipe.expire(self._key(job_key), TIMEOUT_SECONDS)
        pipe.execute()

    def removal_observed(self, job_key: str, uid: str) -> None:
        """Forget one pod: the watch showed it without its finalizer, or gone."""
        self._redis.srem(self._key(job_key), uid)

    def expected(self, job_key: str) -> frozenset[str]:
        """Return the uids whose finalizer removal has not been seen yet."""
        return frozenset(m.decode() for m in self._redis.smembers(self._key(job_key)))

    def forget(self, job_key: str) -> None:
        """Drop the Job's record (the Job is gone)."""
        self._redis.delete(self._key(job_key))


class BackoffStore:
    """The Job controller's pod failure backoff records in one cluster."""

    def __init__(self, *, cluster: str, client: redis.Redis | None = None) -> None:
        self._redis = client if client is not None else default_redis()
        self._prefix = f"{settings.KUBEVIZ_REDIS_PREFIX}:job-backoff:{cluster}"

    def _key(self, job_key: str) -> str:
        return f"{self._prefix}:{job_key}"

    def get(self, job_key: str) -> Backoff:
        raw = self._redis.get(self._key(job_key))
        if raw is None:
            return Backoff()
        failures, _, last = raw.decode().partition(" ")
        when = datetime.fromtimestamp(float(last), UTC) if last else None
        return Backoff(int(failures), when)

    def put(self, job_key: str, record: Backoff) -> None:
        last = "" if record.last_failure is None else repr(record.last_failure.timestamp())
        self._redis.set(self._key(job_key), f"{record.failures} {last}", ex=BACKOFF_RECORD_SECONDS)

    def forget(self, job_key: str) -> None:
        self._redis.delete(self._key(job_key))
