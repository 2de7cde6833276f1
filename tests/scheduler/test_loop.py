"""The scheduling loop's assume cache on a real Redis."""

from __future__ import annotations

import time
import uuid

from django.conf import settings

from kubeviz.client.sharedcache import SharedCache
from kubeviz.scheduler.loop import ASSUMED_TTL, COMPONENT, Cycle
from kubeviz.scheduler.queue import SchedulingQueue


def test_assumptions_left_by_a_dead_task_are_dropped() -> None:
    cluster = f"a-{uuid.uuid4().hex[:8]}"
    cache = SharedCache(cluster=cluster, component=COMPONENT)
    assumed = f"{settings.KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:assumed"
    now = time.time()
    cache.redis.hset(
        assumed, mapping={"ns/fresh": f"n1 {now!r}", "ns/stale": f"n2 {now - ASSUMED_TTL - 1!r}"}
    )
    cycle = Cycle(cluster=cluster, cache=cache, queue=SchedulingQueue(cluster), client=None, events=None)  # type: ignore[arg-type]
    try:
        assert cycle.assumed == {"ns/fresh": "n1"}
        assert cache.redis.hkeys(assumed) == [b"ns/fresh"]
    finally:
        cycle.finish()
        cache.redis.delete(assumed)
