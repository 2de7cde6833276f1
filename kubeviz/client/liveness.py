"""Which node agents are alive right now, so that work queued for a dead one is dropped.

A kube-proxy or network daemon whose pod stops is a process that died: nothing it had queued
runs any more.  The machines process marks every agent it runs as alive in Redis
(``{KUBEVIZ_REDIS_PREFIX}:alive:{cluster}:{agent}``, refreshed every half second with a
short expiry) and unmarks it when it stops the agent; a reconcile checks the mark first.
If the machines process itself dies, the marks expire within ``TTL_SECONDS``.
"""

from __future__ import annotations

import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis

TTL_SECONDS = 5


def _key(cluster: str, agent: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:alive:{cluster}:{agent}"


def mark_alive(cluster: str, agents: list[str], *, client: redis.Redis | None = None) -> None:
    """(Re)mark agents of a cluster alive for ``TTL_SECONDS``."""
    if not agents:
        return
    pipe = (client or default_redis()).pipeline()
    for agent in agents:
        pipe.set(_key(cluster, agent), 1, ex=TTL_SECONDS)
    pipe.execute()


def mark_dead(cluster: str, agent: str, *, client: redis.Redis | None = None) -> None:
    (client or default_redis()).delete(_key(cluster, agent))


def alive(cluster: str, agent: str, *, client: redis.Redis | None = None) -> bool:
    return bool((client or default_redis()).exists(_key(cluster, agent)))
