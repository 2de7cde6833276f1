"""When a person last used a cluster: the clock that idle clean-up reads.

A person using a cluster is a browser holding its stream, a form sent, or a request from a
client that is not one of the cluster's own components (kubectl, helm, a script).  Each
touches ``{KUBEVIZ_REDIS_PREFIX}:seen:{cluster}`` with the time; the control loops' own
requests do not count, or no cluster would ever be idle.  Touches are throttled per process
and never raise: losing one must not fail the request that made it.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis

log = logging.getLogger(__name__)

#: Write at most once per cluster per this many seconds from one process.
THROTTLE_SECONDS = 10.0
_last: dict[str, float] = {}


def key(cluster: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:seen:{cluster}"


def touch(cluster: str, *, now: float | None = None) -> None:
    """Note that a person used ``cluster`` now."""
    at = time.time() if now is None else now
    if at - _last.get(cluster, 0.0) < THROTTLE_SECONDS:
        return
    _last[cluster] = at
    try:
        default_redis().set(key(cluster), f"{at:.3f}", ex=7 * 24 * 3600)
    except redis.RedisError as exc:
        log.debug("activity not noted for %s: %s", cluster, exc)


def last_seen(cluster: str) -> float | None:
    """Return when a person last used ``cluster`` (epoch seconds), or None if never noted."""
    try:
        raw = default_redis().get(key(cluster))
    except redis.RedisError:
        return None
    return float(raw) if raw else None
