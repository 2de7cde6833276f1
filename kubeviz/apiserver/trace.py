"""Request traces: who asked the apiserver what, and what it cost.

Every API request is recorded on the cluster's Redis stream ``kubeviz:trace:<id>``
(capped, newest kept) with the component that made it, verb, resource, name, response
code, latency and the revision it wrote.  The browser draws these as packets.  Recording
never fails a request.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from functools import cache

import redis
from django.conf import settings

log = logging.getLogger(__name__)

MAX_TRACES = 10_000


@dataclass
class Trace:
    component: str
    user_agent: str
    verb: str
    resource: str
    subresource: str
    namespace: str
    name: str
    code: int
    latency_ms: float
    revision: int | None
    at: float


def stream_key(cluster_id: int) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:trace:{cluster_id}"


def component_of(user_agent: str) -> str:
    """Return the component name in a User-Agent (``kube-scheduler/v1.36.0 ...`` → kube-scheduler)."""
    return (user_agent.split("/", 1)[0].strip() or "unknown")[:64]


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)


def _client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


def record(cluster_id: int, trace: Trace) -> None:
    """Append a trace to the cluster's stream; failures are logged, never raised."""
    fields = {k: ("" if v is None else str(v)) for k, v in asdict(trace).items()}
    try:
        _client().xadd(stream_key(cluster_id), fields, maxlen=MAX_TRACES, approximate=True)
    except redis.RedisError as exc:
        log.debug("trace not recorded: %s", exc)


def recent(cluster_id: int, count: int = 100) -> list[dict[str, str]]:
    """Return the newest traces of a cluster, newest first."""
    try:
        rows = _client().xrevrange(stream_key(cluster_id), count=count)
    except redis.RedisError:
        return []
    return [
        {k.decode(): v.decode() for k, v in fields.items()} | {"id": rid.decode()} for rid, fields in rows
    ]


def now() -> float:
    return time.perf_counter()
