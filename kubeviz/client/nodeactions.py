"""Node-local actions: what the node agents do outside the API, published for the explorer.

A runtime call (RunPodSandbox, PullImage, StartContainer …), a CNI ADD or DEL with its IP, a
kube-proxy sync or a route change never reaches the apiserver, so no watch event shows it.
The agents append each one to a capped Redis stream per cluster
(``{KUBEVIZ_REDIS_PREFIX}:actions:{cluster}``), which the browser's stream reads; the oldest
entries fall off past ``MAX_ACTIONS``.  Recording never raises: losing a picture of an action
must not fail the action.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import orjson
import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis

log = logging.getLogger(__name__)

MAX_ACTIONS = 20_000


def stream_key(cluster: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:actions:{cluster}"


def record(
    *,
    cluster: str,
    node: str,
    component: str,
    action: str,
    detail: Mapping[str, Any] | None = None,
    client: redis.Redis | None = None,
) -> None:
    """Append one action (``component`` on ``node`` did ``action``) to the cluster's stream."""
    entry = {"node": node, "component": component, "action": action, "at": time.time(), **(detail or {})}
    try:
        (client or default_redis()).xadd(
            stream_key(cluster), {"a": orjson.dumps(entry)}, maxlen=MAX_ACTIONS, approximate=True
        )
    except redis.RedisError as exc:
        log.warning("%s/%s: could not record %s: %s", cluster, node, action, exc)


def recent(cluster: str, *, count: int = 100, client: redis.Redis | None = None) -> list[dict[str, Any]]:
    """Return the newest actions of a cluster, newest first."""
    rows = (client or default_redis()).xrevrange(stream_key(cluster), count=count)
    return [{"id": rid.decode(), **orjson.loads(fields[b"a"])} for rid, fields in rows]
