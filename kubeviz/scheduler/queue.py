"""The scheduling queue: active, backoff and unschedulable sub-queues, kept in Redis.

Mirrors ``pkg/scheduler/backend/queue/scheduling_queue.go`` (``PriorityQueue``):

* ``active``: pods ready for a scheduling attempt, highest ``spec.priority`` first, then
  first come first served.
* ``backoff``: pods whose last attempt failed, waiting out 1 s doubling to 10 s per attempt
  (upstream's ``podInitialBackoffSeconds``/``podMaxBackoffSeconds``, divided by the cluster's
  speed).
* ``unschedulable``: pods no node could take.  They stay there until a cluster event might
  make them fit (a node added or changed, a pod deleted: ``move_all_to_active_or_backoff``),
  or for at most 5 minutes (``flush_unschedulable_leftover``).

The informer process adds and moves pods; the scheduling task pops them.  A popped pod is
*in flight* (upstream's ``inFlightPods``) until the task binds, parks, backs off or forgets
it.  A task killed in between (a worker SIGKILLed, a binding that raised) leaves its pods in
flight; ``requeue_lost`` puts those that have been in flight for ``IN_FLIGHT_TTL`` back in
the active queue, so no pending pod is ever dropped.  Keys are
``namespace/name``.  Every operation is one Lua script or one command, so the informer and the
task can act at the same time.

Layout under ``{KUBEVIZ_REDIS_PREFIX}:schedq:{cluster}:``: ``active`` (sorted set, key ->
order), ``backoff`` (sorted set, key -> due time), ``unschedulable`` (hash, key -> time it
was parked), ``attempts`` (hash, key -> failed attempts) and ``moves`` (a counter of cluster
events, upstream's ``moveRequestCycle``: a pod that fails while an event arrives backs off
instead of being parked, so it gets another try).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_IN_UNSCHEDULABLE = 300.0
#: A pod in flight this long belongs to a task that died: a live one binds within seconds.
IN_FLIGHT_TTL = 60.0
# Priority dominates the active order; within a priority, earlier adds go first.
_PRIORITY_WEIGHT = 1e12

# KEYS: active, backoff, unschedulable.  ARGV: key, score.  Adds a pod unless already queued.
_ADD = """
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('ZSCORE', KEYS[2], ARGV[1])
   or redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
"""

# KEYS: active, backoff, unschedulable, attempts, moves.  ARGV: now, initial, max, base score, filter-key.
# Moves every parked pod (or only the one named) to backoff while its backoff runs, else to active.
_MOVE = """
local moved = 0
redis.call('INCR', KEYS[5])
local entries = redis.call('HGETALL', KEYS[3])
for i = 1, #entries, 2 do
  local key, parked = entries[i], tonumber(entries[i + 1])
  if ARGV[5] == '' or ARGV[5] == key then
    local tries = tonumber(redis.call('HGET', KEYS[4], key) or '0')
    local wait = 0
    if tries > 0 then wait = math.min(tonumber(ARGV[2]) * 2 ^ (tries - 1), tonumber(ARGV[3])) end
    redis.call('HDEL', KEYS[3], key)
    if parked + wait > tonumber(ARGV[1]) then
      redis.call('ZADD', KEYS[2], parked + wait, key)
    else
      redis.call('ZADD', KEYS[1], tonumber(ARGV[4]) + moved, key)
    end
    moved = moved + 1
  end
end
return moved
"""

# KEYS: active, backoff, moves, inflight.  ARGV: now, count.  Moves due backoff pods to active,
# then pops, marking each popped pod in flight.  Returns the move counter, then the popped keys.
_POP = """
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[2], key)
  redis.call('ZADD', KEYS[1], ARGV[1], key)
end
local out = {redis.call('GET', KEYS[3]) or '0'}
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[2]))
for i = 1, #popped, 2 do
  table.insert(out, popped[i])
  redis.call('ZADD', KEYS[4], ARGV[1], popped[i])
end
return out
"""

# KEYS: active, backoff, unschedulable, inflight.  ARGV: cutoff, score.  Puts pods in flight
# since before the cutoff back in the active queue (unless already queued again).
_LOST = """
local moved = 0
for _, key in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', ARGV[1])) do
  redis.call('ZREM', KEYS[4], key)
  if not (redis.call('ZSCORE', KEYS[1], key) or redis.call('ZSCORE', KEYS[2], key)
          or redis.call('HEXISTS', KEYS[3], key) == 1) then
    redis.call('ZADD', KEYS[1], ARGV[2], key)
    moved = moved + 1
  end
end
return moved
"""

# KEYS: unschedulable, attempts, backoff, moves.  ARGV: key, now, move counter at pop, initial, max.
# Parks the pod, unless a cluster event came while it was being tried: then it backs off instead,
# so the event is not lost on it (upstream's moveRequestCycle).
_PARK = """
local tries = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if tonumber(redis.call('GET', KEYS[4]) or '0') > tonumber(ARGV[3]) then
  local wait = math.min(tonumber(ARGV[4]) * 2 ^ (tries - 1), tonumber(ARGV[5]))
  redis.call('ZADD', KEYS[3], tonumber(ARGV[2]) + wait, ARGV[1])
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""


class SchedulingQueue:
    """One cluster's scheduling queue."""

    def __init__(
        self,
        cluster: str,
        *,
        speed: float = 1.0,
        client: redis.Redis | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client if client is not None else default_redis()
        base = f"{settings.KUBEVIZ_REDIS_PREFIX}:schedq:{cluster}"
        self._active, self._backoff = f"{base}:active", f"{base}:backoff"
        self._unschedulable, self._attempts = f"{base}:unschedulable", f"{base}:attempts"
        self._moves, self._inflight = f"{base}:moves", f"{base}:inflight"
        self._keys = [self._active, self._backoff, self._unschedulable, self._attempts, self._moves]
        #: The move counter as of the last ``pop``: a cluster event after it means a pod being
        #: tried then may fit now.
        self.popped_at_move = 0
        self.speed = speed
        self._clock = clock
        self._add = self._redis.register_script(_ADD)
        self._move = self._redis.register_script(_MOVE)
        self._pop = self._redis.register_script(_POP)
        self._park = self._redis.register_script(_PARK)
        self._lost = self._redis.register_script(_LOST)

    def _now(self, now: float | None) -> float:
        return self._clock() if now is None else now

    def backoff_for(self, attempts: int) -> float:
        """Return the wait after ``attempts`` failed attempts."""
        if attempts <= 0:
            return 0.0
        return min(INITIAL_BACKOFF * 2 ** min(attempts - 1, 30), MAX_BACKOFF) / self.speed

    # --- from the informer ---------------------------------------------------------------------

    def add(self, key: str, *, priority: int = 0, now: float | None = None) -> bool:
        """Queue a pending pod for its first attempt; return False if it was already queued."""
        score = -priority * _PRIORITY_WEIGHT + self._now(now)
        return bool(self._add(keys=self._keys[:3], args=[key, repr(score)]))

    def activate(self, key: str, *, now: float | None = None) -> int:
        """Give one parked pod another chance (its spec changed): to backoff or active."""
        return self._move_parked(key, now)

    def move_all_to_active_or_backoff(self, *, now: float | None = None) -> int:
        """Give every parked pod another chance after a cluster event that may make it fit."""
        return self._move_parked("", now)

    def _move_parked(self, key: str, now: float | None) -> int:
        now = self._now(now)
        return int(
            self._move(
                keys=self._keys,
                args=[repr(now), INITIAL_BACKOFF / self.speed, MAX_BACKOFF / self.speed, repr(now), key],
            )
        )

    def delete(self, key: str) -> None:
        """Forget a pod (deleted, or bound by someone else)."""
        pipe = self._redis.pipeline()
        pipe.zrem(self._active, key)
        pipe.zrem(self._backoff, key)
        pipe.hdel(self._unschedulable, key)
        pipe.hdel(self._attempts, key)
        pipe.zrem(self._inflight, key)
        pipe.execute()

    # --- from the scheduling task --------------------------------------------------------------

    def pop(self, count: int, *, now: float | None = None) -> list[str]:
        """Take up to ``count`` pods to schedule, highest priority first."""
        now = self._now(now)
        moves, *keys = self._pop(
            keys=[self._active, self._backoff, self._moves, self._inflight], args=[repr(now), count]
        )
        self.popped_at_move = int(moves)
        return [k.decode() if isinstance(k, bytes) else k for k in keys]

    def park_unschedulable(self, key: str, *, now: float | None = None) -> bool:
        """Record a failed attempt and park the pod until a cluster event; return whether it was parked.

        If a cluster event arrived since the pod was popped, it backs off instead.
        """
        parked = self._park(
            keys=[self._unschedulable, self._attempts, self._backoff, self._moves],
            args=[
                key,
                repr(self._now(now)),
                self.popped_at_move,
                INITIAL_BACKOFF / self.speed,
                MAX_BACKOFF / self.speed,
            ],
        )
        self._redis.zrem(self._inflight, key)
        return bool(parked)

    def back_off(self, key: str, *, now: float | None = None) -> float:
        """Record a failed attempt (an error, not a misfit) and queue a retry after its backoff."""
        attempts = int(self._redis.hincrby(self._attempts, key, 1))
        wait = self.backoff_for(attempts)
        pipe = self._redis.pipeline()
        pipe.zadd(self._backoff, {key: self._now(now) + wait})
        pipe.zrem(self._inflight, key)
        pipe.execute()
        return wait

    def done(self, key: str) -> None:
        """Forget a pod's attempts once it is bound."""
        pipe = self._redis.pipeline()
        pipe.hdel(self._attempts, key)
        pipe.zrem(self._inflight, key)
        pipe.execute()

    def requeue_lost(self, *, now: float | None = None) -> int:
        """Put pods in flight for longer than ``IN_FLIGHT_TTL`` back in play; return how many."""
        now = self._now(now)
        keys = [self._active, self._backoff, self._unschedulable, self._inflight]
        return int(self._lost(keys=keys, args=[repr(now - IN_FLIGHT_TTL), repr(now)]))

    def flush_unschedulable_leftover(self, *, now: float | None = None) -> int:
        """Move pods parked longer than 5 minutes (scaled) back into play; return how many."""
        now = self._now(now)
        limit = MAX_IN_UNSCHEDULABLE / self.speed
        moved = 0
        for key, parked in self._redis.hgetall(self._unschedulable).items():
            if float(parked) + limit <= now:
                moved += self._move_parked(key.decode(), now)
        return moved

    # --- reading ---------------------------------------------------------------------------------

    def next_backoff_due(self) -> float | None:
        """Return when the earliest backoff ends, or None."""
        first = self._redis.zrange(self._backoff, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def lengths(self) -> dict[str, int]:
        """Return the size of each sub-queue (for the UI)."""
        pipe = self._redis.pipeline()
        pipe.zcard(self._active)
        pipe.zcard(self._backoff)
        pipe.hlen(self._unschedulable)
        active, backoff, unschedulable = pipe.execute()
        return {"active": active, "backoff": backoff, "unschedulable": unschedulable}

    def in_flight(self) -> list[str]:
        """Return the pods popped and not yet bound, parked or backed off."""
        return [k.decode() if isinstance(k, bytes) else k for k in self._redis.zrange(self._inflight, 0, -1)]

    def clear(self) -> None:
        self._redis.delete(*self._keys, self._inflight)
