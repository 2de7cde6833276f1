"""Which watchers each event reached, for the canvas: a watch event is drawn to those only.

When a watch response writes an event, the watcher (the component and instance its
User-Agent names) is noted against the event's revision.  Notes are batched per event loop and
written every ``FLUSH_SECONDS`` to the cluster's capped Redis stream
``{KUBEVIZ_REDIS_PREFIX}:deliveries:{cluster_id}`` as one entry per revision:
``r`` (the revision) and ``w`` (the watchers, comma separated, each ``component`` or
``component/instance``).  With several Daphne processes each writes its own entries; readers
merge them.  Recording never fails a watch.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis
from django.conf import settings

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1
MAX_ENTRIES = 20_000


def stream_key(cluster_id: int) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:deliveries:{cluster_id}"


def watcher_of(user_agent: str) -> str:
    """``kubelet/v1.36.0 (linux/amd64) kubeviz/worker-1`` → ``kubelet/worker-1``; ``kubectl/v1.36…`` → ``kubectl``."""
    component = (user_agent.split("/", 1)[0].strip() or "unknown")[:64]
    for token in user_agent.split():
        if token.startswith("kubeviz/"):
            return f"{component}/{token.removeprefix('kubeviz/')[:253]}"
    return component


class _Batch:
    def __init__(self) -> None:
        self.pending: dict[int, dict[int, set[str]]] = {}
        self.task: asyncio.Task[None] | None = None
        self.client: aioredis.Redis | None = None

    def note(self, cluster_id: int, revision: int, watcher: str) -> None:
        self.pending.setdefault(cluster_id, {}).setdefault(revision, set()).add(watcher)
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        await asyncio.sleep(FLUSH_SECONDS)
        pending, self.pending = self.pending, {}
        try:
            if self.client is None:
                self.client = aioredis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)
            pipe = self.client.pipeline(transaction=False)
            for cluster_id, revisions in pending.items():
                for revision in sorted(revisions):
                    fields = {"r": revision, "w": ",".join(sorted(revisions[revision]))}
                    pipe.xadd(stream_key(cluster_id), fields, maxlen=MAX_ENTRIES, approximate=True)
            await pipe.execute()
        except Exception as exc:  # a picture lost, never a watch
            log.debug("deliveries not recorded: %s", exc)


_batches: dict[asyncio.AbstractEventLoop, _Batch] = {}


def note(cluster_id: int, revision: int, watcher: str) -> None:
    """Record that ``watcher`` was sent the event at ``revision`` (call from the event loop)."""
    loop = asyncio.get_running_loop()
    batch = _batches.get(loop)
    if batch is None:
        for old in [lp for lp in _batches if lp.is_closed()]:
            del _batches[old]
        batch = _batches[loop] = _Batch()
    batch.note(cluster_id, revision, watcher)
