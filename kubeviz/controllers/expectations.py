"""Expectations: the creates and deletes a controller has asked for but not yet seen.

Mirrors ``ControllerExpectations`` of ``pkg/controller/controller_utils.go``.  The informer
cache lags a controller's own writes: without expectations, a sync right after creating 5 pods
would still see 0 and create 5 more.  A sync records what it expects before it writes; the
informer process lowers the record as the watch delivers the new objects (``observe`` hooks
in the controller's ``Watch``); a sync only acts on a key whose record is satisfied.

The record lives in Redis because the sync and the informer run in different processes.
Satisfied means every expectation met, no record at all, or a record older than 5 minutes (a
lost event must not wedge a key for ever), as upstream.

One addition, because the record outlives the worker that wrote it (upstream's lives and dies
with the controller process): a reconcile *seals* the record when it ends (``seal``, called by
the loop skeleton whether the sync returned or raised).  A record left unsealed was written by
a reconcile that was killed half-way, so its counts say nothing about what reached the
apiserver; the next reconcile ignores it.  That next reconcile only runs once the dead worker's
claim on the key has been reaped, by which time the writes that did land have come back through
the watch, so ignoring the record cannot make it create twice.

Layout: ``{KUBEVIZ_REDIS_PREFIX}:expect:{cluster}:{controller}`` is a hash with four fields
per key: ``<key>:add``, ``<key>:del``, ``<key>:at`` (epoch seconds when recorded) and
``<key>:sealed`` (``1`` once the reconcile that wrote it has ended).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis

TIMEOUT_SECONDS = 300.0

# KEYS: the hash.  ARGV: key.  Seals a record if there is one.
_SEAL = """
if redis.call('HEXISTS', KEYS[1], ARGV[1] .. ':at') == 1 then
  redis.call('HSET', KEYS[1], ARGV[1] .. ':sealed', 1)
end
"""


class Expectations:
    """One controller's expectations in one cluster."""

    def __init__(
        self,
        *,
        cluster: str,
        controller: str,
        client: redis.Redis | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._redis = client if client is not None else default_redis()
        self._hash = f"{settings.KUBEVIZ_REDIS_PREFIX}:expect:{cluster}:{controller}"
        self._clock = clock
        self._timeout = timeout

    def expect(self, key: str, *, add: int = 0, delete: int = 0) -> None:
        """Replace the key's record with ``add`` pending creations and ``delete`` pending deletions."""
        self._redis.hset(
            self._hash,
            mapping={
                f"{key}:add": add,
                f"{key}:del": delete,
                f"{key}:at": repr(self._clock()),
                f"{key}:sealed": 0,
            },
        )

    def seal(self, key: str) -> None:
        """Mark the key's record as written by a reconcile that ran to its end."""
        self._redis.eval(_SEAL, 1, self._hash, key)

    def expect_creations(self, key: str, adds: int) -> None:
        self.expect(key, add=adds)

    def expect_deletions(self, key: str, dels: int) -> None:
        self.expect(key, delete=dels)

    def creation_observed(self, key: str) -> None:
        """Lower the key's pending creations by one (the watch showed a new object)."""
        self.lower(key, add=1)

    def deletion_observed(self, key: str) -> None:
        """Lower the key's pending deletions by one (the watch showed an object gone)."""
        self.lower(key, delete=1)

    def lower(self, key: str, *, add: int = 0, delete: int = 0) -> None:
        """Lower a recorded key's expectations (unrecorded keys stay unrecorded)."""
        if not self._redis.hexists(self._hash, f"{key}:at"):
            return
        pipe = self._redis.pipeline()
        if add:
            pipe.hincrby(self._hash, f"{key}:add", -add)
        if delete:
            pipe.hincrby(self._hash, f"{key}:del", -delete)
        pipe.execute()

    def forget(self, key: str) -> None:
        """Drop the key's record (its controller object is gone)."""
        self._redis.hdel(self._hash, f"{key}:add", f"{key}:del", f"{key}:at", f"{key}:sealed")

    def pending(self, key: str) -> tuple[int, int] | None:
        """Return (adds, dels) still expected, or None when nothing is recorded."""
        add, dele, at = self._redis.hmget(self._hash, [f"{key}:add", f"{key}:del", f"{key}:at"])
        if at is None:
            return None
        return int(add or 0), int(dele or 0)

    def satisfied(self, key: str) -> bool:
        """Tell whether the controller may trust its cache for this key."""
        add, dele, at, sealed = self._redis.hmget(
            self._hash, [f"{key}:add", f"{key}:del", f"{key}:at", f"{key}:sealed"]
        )
        if at is None or sealed in (b"0", "0"):
            return True  # nothing recorded, or its writer was killed half-way
        if int(add or 0) <= 0 and int(dele or 0) <= 0:
            return True
        return self._clock() - float(at) > self._timeout
