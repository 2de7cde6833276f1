"""Publishing committed writes on Redis, so live watchers see them at once.

The database is the source of truth: a message is only a hint that revision N exists.
Watchers that see a gap between the revision they hold and the one announced read the
missing rows back from the ``History`` table, so a lost or reordered message never
loses an event (see ``watch.py``).
"""

from __future__ import annotations

import json
import logging
from functools import cache

import redis
from django.conf import settings

from kubeviz.store.keys import Event

log = logging.getLogger(__name__)


def channel(cluster_id: int) -> str:
    """Return the Redis pub/sub channel carrying one cluster's events."""
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:store:{cluster_id}:events"


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _client() -> redis.Redis:
    return _client_for(settings.REDIS_URL)


def publish(cluster_id: int, events: list[Event]) -> None:
    """Announce committed events; never fails the write that produced them."""
    if not events:
        return
    try:
        pipe = _client().pipeline(transaction=False)
        for ev in events:
            pipe.publish(channel(cluster_id), json.dumps(ev.to_message(), separators=(",", ":")))
        pipe.execute()
    except redis.RedisError as exc:  # watchers catch up from History on their next poll
        log.warning("could not publish %d event(s) for cluster %s: %s", len(events), cluster_id, exc)
