"""The work queue: client-go's workqueue contract, shared between processes through Redis.

Mirrors ``k8s.io/client-go/util/workqueue``: the *dirty* and *processing* sets of
``queue.go``, ``AddAfter`` of ``delaying_queue.go`` and the per-item exponential failure
limiter of ``default_rate_limiters.go``.  client-go keeps those sets in one process's memory
and its workers pull keys with ``Get``; kubeviz keeps them in Redis and pushes one Celery task
per key.  A task is only a wake-up call: the sets decide who works on what, so a duplicate,
late or redelivered task is harmless.

Contract
--------
* A key is a string, usually ``namespace/name`` (``name`` for cluster-scoped objects).
* ``add(key)``: if the key is already dirty, nothing happens, so any number of adds of a
  waiting key become one reconcile.  Otherwise the key becomes dirty and, unless it is being
  processed, one task is dispatched for it.  A key has at most one task due at a time.
* ``begin(key)`` is the first thing a task does.  It moves the key from dirty to processing in
  one Lua script, and answers False if the key is not dirty, is already being processed or is
  not yet due.  A task that gets False does nothing.  So no key is ever reconciled by two
  workers at once.
* ``done(key)`` ends the processing in one Lua script.  If the key was added again meanwhile,
  it dispatches exactly one task for it, so any number of events during a reconcile cause
  exactly one more reconcile after it.
* ``add_after(key, delay)`` makes the key dirty with a due time and sends its task with a
  Celery countdown.  ``add_rate_limited(key)`` waits 5 ms after the first failure and doubles
  the wait after each further one, up to 1000 s (client-go's ``DefaultControllerRateLimiter``
  without its overall 10 qps bucket).  ``forget(key)`` resets the count, and
  ``num_requeues(key)`` reads it.
* One difference from client-go: a delayed key is already dirty here.  A plain ``add`` during
  the delay brings the due time forward, and the key is reconciled once, at once.  client-go
  would reconcile it now and again when the delay ends.
* Processing leases.  ``begin`` records a deadline ``lease_seconds`` ahead, and the ``process``
  task renews it while the reconcile runs.  ``reap_stale(now)``, run by a periodic task,
  returns keys whose lease has expired to dirty and dispatches them again.  Their worker died
  mid-task (SIGKILL, lost machine).  Reconciles are level-based and idempotent (DESIGN.md
  rule 3), so redoing a half-done one is harmless.  Every claim has an owner: ``done`` or
  ``renew`` from an owner whose claim was reaped does nothing, so a late finisher cannot end
  a newer claim.
* Lost wake-ups.  If a dispatch fails after its key was marked dirty, the key could wait for
  ever.  ``reap_stale`` therefore also redispatches keys that have been due for longer than
  ``lease_seconds`` without being picked up.
* Tasks are declared ``acks_late`` and ``reject_on_worker_lost``, so the broker redelivers
  the task of a worker that died.  The sets make the redelivery a no-op or a needed redo.

Redis layout, under ``{KUBEVIZ_REDIS_PREFIX}:workqueue:{name}:``: ``dirty`` (sorted set,
key -> due time), ``processing`` (sorted set, key -> lease deadline), ``owners`` (hash,
key -> owner of the claim), ``failures`` (hash, key -> consecutive failures) and ``last``
(hash, cluster -> the last reconcile there, for the explorer).  Times are
wall-clock epoch seconds, because they are compared across processes.  Every method takes an
optional ``now``, so tests move a fake clock instead of sleeping.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

import redis
from django.conf import settings
from kombu.exceptions import OperationalError

from kubeviz.celery import app

log = logging.getLogger(__name__)

#: client-go's per-item limiter: 5 ms after the first failure, doubling, at most 1000 s.
BACKOFF_BASE = 0.005
BACKOFF_CAP = 1000.0
#: How long a claim lasts unless renewed (``settings.KUBEVIZ_WORKQUEUE_LEASE`` overrides it).
#: The process task renews it every third of this.
LEASE_SECONDS = 60.0
#: A task may start this much before its key is due, to allow for clock skew between hosts.
EARLY_TOLERANCE = 0.5

Reconcile = Callable[[str], None]


class Dispatcher(Protocol):
    """Sends a wake-up task for a key: a Celery task, or a test double with the same method."""

    def apply_async(self, args: list[str], countdown: float = 0.0, **options: Any) -> Any: ...


@dataclass(frozen=True)
class Claim:
    """Records that a key is being processed: by whom, and until when unless renewed."""

    key: str
    owner: str
    deadline: float


# KEYS: dirty, processing.  ARGV: key, due.  Returns 1 if the caller must dispatch a task.
_ADD = """
local current = redis.call('ZSCORE', KEYS[1], ARGV[1])
if current and tonumber(current) <= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
return 1
"""

# KEYS: dirty, processing, owners.  ARGV: key, now, deadline, owner, early tolerance.
_BEGIN = """
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 0 end
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due then return 0 end
if tonumber(due) > tonumber(ARGV[2]) + tonumber(ARGV[5]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
return 1
"""

# KEYS: dirty, processing, owners.  ARGV: key, owner.
# Returns the key's due time if it became dirty during processing (dispatch it), else false.
_DONE = """
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return false end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return redis.call('ZSCORE', KEYS[1], ARGV[1])
"""

# KEYS: processing, owners.  ARGV: key, owner, new deadline.  Returns 1 if the claim is still ours.
_RENEW = """
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

# KEYS: dirty, processing, owners.  ARGV: now, overdue-before.  Returns the keys to dispatch.
_REAP = """
local out, seen = {}, {}
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[2], key)
  redis.call('HDEL', KEYS[3], key)
  redis.call('ZADD', KEYS[1], ARGV[1], key)
  table.insert(out, key)
  seen[key] = true
end
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])) do
  if not seen[key] and not redis.call('ZSCORE', KEYS[2], key) then
    redis.call('ZADD', KEYS[1], ARGV[1], key)
    table.insert(out, key)
  end
end
return out
"""


def backoff(requeues: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Return the wait before the next retry of a key that has already been requeued ``requeues`` times.

    client-go's ``ItemExponentialFailureRateLimiter``: ``base * 2**requeues``, at most ``cap``.
    The exponent is bounded first because ``2.0**1024`` overflows a float.
    """
    if requeues >= 64:
        return cap
    return min(base * 2.0**requeues, cap)


def default_owner() -> str:
    """Name the calling thread as the owner of a claim: host, process and thread."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True)


class WorkQueue:
    """Holds one named queue's dirty set, processing set and failure counts in Redis."""

    def __init__(
        self,
        name: str,
        *,
        task: Dispatcher | None = None,
        client: redis.Redis | None = None,
        celery_queue: str | None = None,
        lease_seconds: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.celery_queue = celery_queue
        self.lease_seconds = lease_seconds if lease_seconds is not None else settings.KUBEVIZ_WORKQUEUE_LEASE
        self._task: Dispatcher = task if task is not None else (_default_dispatcher or process)
        self._redis = client if client is not None else _client_for(settings.REDIS_URL)
        self._clock = clock
        base = f"{settings.KUBEVIZ_REDIS_PREFIX}:workqueue:{name}"
        self._dirty = f"{base}:dirty"
        self._processing = f"{base}:processing"
        self._owners = f"{base}:owners"
        self._failures = f"{base}:failures"
        self._last = f"{base}:last"
        self._add_script = self._redis.register_script(_ADD)
        self._begin_script = self._redis.register_script(_BEGIN)
        self._done_script = self._redis.register_script(_DONE)
        self._renew_script = self._redis.register_script(_RENEW)
        self._reap_script = self._redis.register_script(_REAP)

    # --- adding ---------------------------------------------------------------------------

    def add(self, key: str, *, now: float | None = None) -> bool:
        """Mark ``key`` dirty now; return True if this call dispatched its task."""
        return self.add_after(key, 0.0, now=now)

    def add_after(self, key: str, delay: float, *, now: float | None = None) -> bool:
        """Mark ``key`` dirty, due ``delay`` seconds from now; return True if a task was dispatched."""
        now = self._now(now)
        delay = max(0.0, delay)
        if not self._add_script(keys=[self._dirty, self._processing], args=[key, repr(now + delay)]):
            return False
        self._dispatch(key, countdown=delay)
        return True

    def add_rate_limited(self, key: str, *, now: float | None = None) -> float:
        """Count one more failure of ``key`` and add it after its backoff; return that backoff."""
        requeues = int(self._redis.hincrby(self._failures, key, 1)) - 1
        delay = backoff(requeues)
        self.add_after(key, delay, now=now)
        return delay

    def forget(self, key: str) -> None:
        """Reset the failure count of ``key``: its next failure waits the base delay again."""
        self._redis.hdel(self._failures, key)

    def num_requeues(self, key: str) -> int:
        """Return how many times ``key`` has been requeued since its last success."""
        return int(self._redis.hget(self._failures, key) or 0)

    # --- processing -----------------------------------------------------------------------

    def begin(self, key: str, *, owner: str | None = None, now: float | None = None) -> bool:
        """Claim a due, dirty ``key`` for processing; return False if it is not ours to process."""
        now = self._now(now)
        claimed = self._begin_script(
            keys=[self._dirty, self._processing, self._owners],
            args=[key, repr(now), repr(now + self.lease_seconds), owner or default_owner(), EARLY_TOLERANCE],
        )
        return bool(claimed)

    def renew(self, key: str, *, owner: str | None = None, now: float | None = None) -> bool:
        """Extend the claim on ``key``; return False if it was reaped and is no longer ours."""
        now = self._now(now)
        renewed = self._renew_script(
            keys=[self._processing, self._owners],
            args=[key, owner or default_owner(), repr(now + self.lease_seconds)],
        )
        return bool(renewed)

    def done(self, key: str, *, owner: str | None = None, now: float | None = None) -> bool:
        """End the claim on ``key``; if it was added meanwhile, dispatch it once and return True."""
        now = self._now(now)
        due = self._done_script(
            keys=[self._dirty, self._processing, self._owners], args=[key, owner or default_owner()]
        )
        if due is None:
            return False
        self._dispatch(key, countdown=max(0.0, float(due) - now))
        return True

    def reap_stale(self, now: float | None = None) -> list[str]:
        """Return expired claims and lost wake-ups to dirty, dispatch them, and list their keys."""
        now = self._now(now)
        keys = self._reap_script(
            keys=[self._dirty, self._processing, self._owners],
            args=[repr(now), repr(now - self.lease_seconds)],
        )
        for key in keys:
            log.warning(
                "workqueue %s: redispatching %s (its worker died or its task was lost)", self.name, key
            )
            self._dispatch(key, countdown=0.0)
        return list(keys)

    # --- reading, for the UI --------------------------------------------------------------

    def depth(self) -> int:
        """Return how many keys are waiting (dirty), including those waiting out a delay."""
        return int(self._redis.zcard(self._dirty))

    def waiting(self) -> dict[str, float]:
        """Return the dirty keys with the time each is due."""
        return dict(self._redis.zrange(self._dirty, 0, -1, withscores=True))

    def depth_of(self, prefix: str) -> tuple[int, int]:
        """Return (waiting, processing) counts of the keys starting with ``prefix`` (a cluster's)."""
        match = prefix.replace("*", r"\*").replace("?", r"\?").replace("[", r"\[") + "*"
        waiting = sum(1 for _ in self._redis.zscan_iter(self._dirty, match=match, count=500))
        busy = sum(1 for _ in self._redis.zscan_iter(self._processing, match=match, count=500))
        return waiting, busy

    def note_reconcile(self, key: str, *, result: str, seconds: float, now: float | None = None) -> None:
        """Remember the last reconcile of the key's group (the part before ``|``, a cluster)."""
        group = key.partition("|")[0] if "|" in key else ""
        entry = {"key": key.partition("|")[2] if "|" in key else key, "result": result}
        entry.update({"at": self._now(now), "seconds": round(seconds, 4)})
        try:
            self._redis.hset(self._last, group, json.dumps(entry))
        except redis.RedisError as exc:  # a lost note must not fail the reconcile
            log.debug("workqueue %s: last reconcile not noted: %s", self.name, exc)

    def last_reconcile(self, group: str) -> dict[str, Any] | None:
        """Return the last reconcile noted for a group: key, result, at (epoch) and seconds."""
        raw = self._redis.hget(self._last, group)
        return None if raw is None else json.loads(raw)

    def processing(self) -> list[Claim]:
        """Return the claims being processed now, soonest deadline first."""
        pairs = self._redis.zrange(self._processing, 0, -1, withscores=True)
        owners = self._redis.hmget(self._owners, [key for key, _ in pairs]) if pairs else []
        return [
            Claim(key, owner or "", deadline) for (key, deadline), owner in zip(pairs, owners, strict=True)
        ]

    # --- internals ------------------------------------------------------------------------

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    def _dispatch(self, key: str, *, countdown: float) -> None:
        options: dict[str, Any] = {"queue": self.celery_queue} if self.celery_queue else {}
        try:
            self._task.apply_async(args=[self.name, key], countdown=countdown, **options)
        except OperationalError as exc:
            # The key is recorded dirty; reap_stale redispatches it once it is overdue.
            log.warning("workqueue %s: could not dispatch %s: %s", self.name, key, exc)


# --- dispatching without Celery -------------------------------------------------------------

_default_dispatcher: Dispatcher | None = None


def set_default_dispatcher(dispatcher: Dispatcher | None) -> None:
    """Make queues built from now on dispatch through ``dispatcher`` (None: the Celery task).

    For running the loops inside one process (tests, a single-process demo); the work-queue
    contract is the same either way, because the sets in Redis decide who works on what.
    """
    global _default_dispatcher
    _default_dispatcher = dispatcher


class ThreadDispatcher:
    """Runs registered reconciles on a thread pool in this process instead of on Celery."""

    def __init__(self, workers: int = 4) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile")
        self._timers: set[threading.Timer] = set()
        self._closed = False

    def apply_async(self, args: list[str], countdown: float = 0.0, **options: Any) -> None:
        queue_name, key = args
        if countdown > 0:
            timer = threading.Timer(countdown, self._submit, args=(queue_name, key))
            timer.daemon = True
            self._timers.add(timer)
            timer.start()
        else:
            self._submit(queue_name, key)

    def _submit(self, queue_name: str, key: str) -> None:
        if not self._closed:
            self._pool.submit(self._run, queue_name, key)

    def _run(self, queue_name: str, key: str) -> None:
        registration = REGISTRY.get(queue_name)
        if registration is None:
            log.error("workqueue %s: no reconcile function registered; dropping %s", queue_name, key)
            return
        process_key(registration.queue(queue_name), registration.reconcile, key, owner=default_owner())

    def close(self) -> None:
        """Stop taking work, cancel pending delays and wait for running reconciles."""
        self._closed = True
        for timer in list(self._timers):
            timer.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)


# --- the registry and the Celery tasks ------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """Names the reconcile function of a queue and how the queue's tasks are routed."""

    reconcile: Reconcile
    celery_queue: str | None = None
    lease_seconds: float | None = None

    def queue(self, name: str) -> WorkQueue:
        """Build the queue this registration describes."""
        return WorkQueue(name, celery_queue=self.celery_queue, lease_seconds=self.lease_seconds)


#: Queue name -> its reconcile function.  Filled by explicit ``register`` calls.
REGISTRY: dict[str, Registration] = {}


def register(
    queue_name: str,
    fn: Reconcile,
    *,
    celery_queue: str | None = None,
    lease_seconds: float | None = None,
) -> WorkQueue:
    """Make ``fn`` the reconcile function of ``queue_name`` and return the queue."""
    REGISTRY[queue_name] = Registration(fn, celery_queue=celery_queue, lease_seconds=lease_seconds)
    return REGISTRY[queue_name].queue(queue_name)


@contextmanager
def keep_lease(queue: WorkQueue, key: str, *, owner: str) -> Iterator[None]:
    """Renew the claim on ``key`` every third of its lease while the body runs."""
    stop = threading.Event()

    def renew_until_stopped() -> None:
        while not stop.wait(queue.lease_seconds / 3):
            if not queue.renew(key, owner=owner):
                log.warning("workqueue %s: lost the claim on %s (reaped)", queue.name, key)
                return

    keeper = threading.Thread(target=renew_until_stopped, name=f"lease:{queue.name}:{key}", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        stop.set()
        keeper.join()


def process_key(queue: WorkQueue, reconcile: Reconcile, key: str, *, owner: str) -> str:
    """Run one reconcile of ``key`` under the work-queue contract; return what happened.

    client-go's ``processNextWorkItem``: begin, reconcile, then forget on success or requeue
    with backoff on failure, and always done.
    """
    if not queue.begin(key, owner=owner):
        return "skipped"
    started = time.monotonic()
    result = "requeued"
    try:
        with keep_lease(queue, key, owner=owner):
            try:
                reconcile(key)
            except Exception:
                log.exception("workqueue %s: reconcile of %s failed", queue.name, key)
                queue.add_rate_limited(key)
                return result
            queue.forget(key)
            result = "synced"
            return result
    finally:
        queue.done(key, owner=owner)
        queue.note_reconcile(key, result=result, seconds=time.monotonic() - started)


@app.task(
    name="kubeviz.client.workqueue.process",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def process(self: Any, queue_name: str, key: str) -> str:
    """Reconcile one key of a registered queue (the task every add dispatches)."""
    registration = REGISTRY.get(queue_name)
    if registration is None:
        log.error("workqueue %s: no reconcile function registered; dropping %s", queue_name, key)
        return "unregistered"
    owner = f"{self.request.hostname or default_owner()}/{self.request.id}"
    return process_key(registration.queue(queue_name), registration.reconcile, key, owner=owner)


@app.task(
    name="kubeviz.client.workqueue.reap", acks_late=True, reject_on_worker_lost=True, ignore_result=True
)
def reap() -> dict[str, int]:
    """Reap expired claims and lost wake-ups of every registered queue (for Celery beat)."""
    return {name: len(reg.queue(name).reap_stale()) for name, reg in REGISTRY.items()}
