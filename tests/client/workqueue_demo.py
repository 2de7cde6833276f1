"""A demo reconciler for the work-queue tests that run a real Celery worker.

The worker imports this module with ``-I tests.client.workqueue_demo``; the ``register`` call
at the bottom is how that worker learns the queue's reconcile function.  What a reconcile does
is read from its key, so the test needs no flags:

* ``gate/<x>`` waits until the test pushes to the key's release list (at most 20 s);
* ``slow/<x>`` takes 30 ms;
* any other key returns at once.

Every reconcile records in Redis its start and end time, a count of starts, and an overlap
whenever another reconcile of the same key was already running.
"""

from __future__ import annotations

import json
import time
from functools import cache

import redis
from django.conf import settings

from kubeviz.client.workqueue import register

QUEUE = "demo"
#: Short, so the killed-worker test sees a lease expire in real time.
LEASE_SECONDS = 3.0


def celery_queue() -> str:
    """Return the Celery queue of the demo tasks, private to this test session's prefix."""
    return f"{settings.KUBEVIZ_REDIS_PREFIX}-workqueue-demo"


def record(kind: str, key: str) -> str:
    """Return the Redis key where the demo records ``kind`` for ``key``."""
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:demo:{kind}:{key}"


@cache
def _client(url: str) -> redis.Redis:
    # No socket timeout: gate keys block on BLPOP longer than a usual timeout.
    return redis.Redis.from_url(url, decode_responses=True)


def client() -> redis.Redis:
    """Return a Redis client for the demo's records."""
    return _client(settings.REDIS_URL)


def reconcile(key: str) -> None:
    """Pretend to reconcile ``key`` and record when, and whether it overlapped another run."""
    r = client()
    start = time.time()
    if r.incr(record("active", key)) > 1:
        r.incr(record("overlaps", key))
    r.incr(record("started", key))
    try:
        if key.startswith("gate/"):
            r.blpop([record("release", key)], timeout=20)
        elif key.startswith("slow/"):
            time.sleep(0.03)  # stands for the work of a reconcile, not a wait for state
    finally:
        r.decr(record("active", key))
        r.rpush(record("intervals", key), json.dumps([start, time.time()]))


register(QUEUE, reconcile, celery_queue=celery_queue(), lease_seconds=LEASE_SECONDS)
