"""etcd's Watch: a gapless, ordered stream of one cluster's events from any kept revision.

Contract:

* ``stream(cluster_id, since)`` yields every event with ``revision > since`` exactly once,
  in revision order, then follows live writes until the caller stops iterating.
* A ``since`` older than the compaction point raises ``Compacted`` (the apiserver turns it
  into 410 Expired).
* A consumer that falls more than ``MAX_BACKLOG`` events behind is cut off with
  ``TooSlow`` instead of growing memory; it resumes from the last revision it saw, as a
  kube-apiserver client does after its watch is closed.

How: one *feed* per cluster and process subscribes to the cluster's Redis channel and
keeps the last revision it delivered.  Messages are only hints: when one announces a
revision past ``last + 1`` (a message lost or overtaken by another writer's), the feed
reads the missing rows from ``History`` first; when the channel is quiet it polls the
cluster's revision once a second.  A new stream subscribes to the feed first, then replays
``History`` from ``since``, then skips queued events it already replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections
from redis.asyncio.client import PubSub

from kubeviz.store import bus, selectors
from kubeviz.store.keys import ClusterNotFound, Event, StoreError

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_BACKLOG = 10_000
POLL_SECONDS = 1.0
#: Events read per replay query.  Each watcher that catches up holds one batch of bodies, and a
#: hundred kubelets starting together catch up at once, so batches stay small.
REPLAY_BATCH = 200
#: A feed that has not turned for this long is stopped (and logged with its stack): its
#: watchers end, and their clients watch again from their last revision.
STALL_SECONDS = 60.0
#: Bound on one Redis call of a feed beyond its own timeout.
REDIS_SECONDS = 10.0
READ_THREADS = 4


class TooSlow(StoreError):
    """The consumer fell too far behind and was cut off."""


@dataclass(frozen=True)
class Progress:
    """No event for a while; the cluster's revision is at least ``revision`` (for bookmarks)."""

    revision: int


#: Watch reads run on threads of their own.  On the event loop's default pool they queued
#: behind API requests, which wait on the database's write lock; then every watch of a cluster
#: stalled together while its writes went on.
_POOL = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="watch-read")


def _fresh(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    close_old_connections()  # a pool thread keeps its connection; drop it if it broke
    return fn(*args, **kwargs)


async def read(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a store read for the watch machinery on the watch read pool."""
    return await sync_to_async(_fresh, thread_sensitive=False, executor=_POOL)(fn, *args, **kwargs)


@dataclass(eq=False)
class _Subscriber:
    queue: deque[Event] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    overflowed: bool = False

    def push(self, event: Event) -> None:
        if self.overflowed:
            return
        if len(self.queue) >= MAX_BACKLOG:
            self.overflowed = True
            self.queue.clear()
        else:
            self.queue.append(event)
        self.wake.set()


class _Feed:
    """The live events of one cluster in this process, in order and without gaps."""

    def __init__(self, cluster_id: int) -> None:
        self.cluster_id = cluster_id
        self.subscribers: set[_Subscriber] = set()
        self.last = 0
        self.ready = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.error: BaseException | None = None
        self.alive = 0.0  # loop time of the feed's last turn; a watchdog for stalls

    def stalled(self, now: float) -> bool:
        return self.ready.is_set() and self.error is None and now - self.alive > STALL_SECONDS

    def stack(self) -> str:
        out = io.StringIO()
        if self.task is not None:
            self.task.print_stack(file=out)
        return out.getvalue()

    def fail(self, exc: BaseException) -> None:
        """Stop the feed: its streams end, and their clients watch again from where they were."""
        self.error = exc
        self.ready.set()
        for sub in self.subscribers:
            sub.wake.set()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    async def _subscribe(self, client: aioredis.Redis) -> PubSub:
        pubsub = client.pubsub()
        await asyncio.wait_for(pubsub.subscribe(bus.channel(self.cluster_id)), REDIS_SECONDS)
        return pubsub

    async def run(self) -> None:
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        pubsub: PubSub | None = None
        try:
            pubsub = await self._subscribe(client)
            # Subscribed first, then read the revision: any later write is announced to us.
            self.last, _ = await read(selectors.revision, self.cluster_id)
            loop = asyncio.get_running_loop()
            self.alive = loop.time()
            self.ready.set()
            while True:
                self.alive = loop.time()
                try:
                    msg = await asyncio.wait_for(
                        pubsub.get_message(ignore_subscribe_messages=True, timeout=POLL_SECONDS),
                        POLL_SECONDS + REDIS_SECONDS,
                    )
                except TimeoutError:
                    # A read that outlives its own timeout leaves the connection in an unknown
                    # state: start a new one, and let the poll below catch up from the store.
                    log.warning("watch feed for cluster %s: Redis read hung; resubscribing", self.cluster_id)
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()
                    pubsub = await self._subscribe(client)
                    msg = None
                if msg is not None and msg.get("type") == "message":
                    await self._deliver(Event.from_message(json.loads(msg["data"])))
                else:
                    await self._poll()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # Redis or DB gone: wake subscribers so they fail fast
            self.fail(exc)
            if isinstance(exc, ClusterNotFound):
                log.info("watch feed for cluster %s stopped: the cluster was deleted", self.cluster_id)
            else:
                log.warning("watch feed for cluster %s stopped: %r", self.cluster_id, exc)
        finally:
            with contextlib.suppress(Exception):
                if pubsub is not None:
                    await pubsub.aclose()
                await client.aclose()

    async def _poll(self) -> None:
        current, _ = await read(selectors.revision, self.cluster_id)
        if current > self.last:
            await self._backfill(current)
        for sub in self.subscribers:
            sub.wake.set()  # lets idle streams emit progress (bookmarks)

    async def _backfill(self, upto: int) -> None:
        while self.last < upto:
            events = await read(
                selectors.history_after,
                cluster_id=self.cluster_id,
                after=self.last,
                upto=upto,
                limit=REPLAY_BATCH,
            )
            if not events:
                # Revisions consumed by failed transactions leave no row; skip them.
                self.last = upto
                return
            for ev in events:
                self._fan_out(ev)

    async def _deliver(self, event: Event) -> None:
        if event.revision <= self.last:
            return
        if event.revision > self.last + 1:
            await self._backfill(event.revision - 1)
        if event.revision > self.last:
            self._fan_out(event)

    def _fan_out(self, event: Event) -> None:
        self.last = event.revision
        for sub in self.subscribers:
            sub.push(event)


class Hub:
    """The feeds of one event loop (one per Daphne process)."""

    def __init__(self) -> None:
        self.feeds: dict[int, _Feed] = {}

    async def subscribe(self, cluster_id: int) -> tuple[_Feed, _Subscriber]:
        feed = self.feeds.get(cluster_id)
        now = asyncio.get_running_loop().time()
        if (
            feed is None
            or feed.error is not None
            or feed.stalled(now)
            or (feed.task is not None and feed.task.done())
        ):
            if feed is not None and feed.error is None:
                feed.fail(StoreError("watch feed replaced"))
            feed = _Feed(cluster_id)
            self.feeds[cluster_id] = feed
            feed.task = asyncio.create_task(feed.run(), name=f"kubeviz-watch-feed-{cluster_id}")
        sub = _Subscriber()
        feed.subscribers.add(sub)
        await feed.ready.wait()
        if feed.error is not None:
            feed.subscribers.discard(sub)
            raise StoreError(f"watch is unavailable: {feed.error}")
        return feed, sub

    def unsubscribe(self, feed: _Feed, sub: _Subscriber) -> None:
        feed.subscribers.discard(sub)
        if not feed.subscribers and self.feeds.get(feed.cluster_id) is feed:
            del self.feeds[feed.cluster_id]
            if feed.task is not None:
                feed.task.cancel()


_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """Return the hub of the running event loop."""
    loop = asyncio.get_running_loop()
    if loop not in _hubs:
        for old in [lp for lp in _hubs if lp.is_closed()]:
            del _hubs[old]
        _hubs[loop] = Hub()
    return _hubs[loop]


async def stream(
    cluster_id: int, since: int, *, progress_every: float = 5.0, kind: tuple[str, str] | None = None
) -> AsyncIterator[Event | Progress]:
    """Yield every event after ``since`` in order, then live ones; ``Progress`` when idle.

    ``kind`` (group, resource) is a hint for the replay: only that resource's events are read
    from the log, so a watcher catching up does not load every other resource's bodies.  Live
    events of other resources may still be yielded; the caller filters them as it would.
    """
    h = hub()
    feed, sub = await h.subscribe(cluster_id)
    try:
        position = since
        while True:  # replay the log up to (at least) where the feed began
            events = await read(
                selectors.history_after, cluster_id=cluster_id, after=position, limit=REPLAY_BATCH, kind=kind
            )
            for ev in events:
                position = ev.revision
                yield ev
            if len(events) < REPLAY_BATCH:
                break
        loop = asyncio.get_running_loop()
        idle_since = loop.time()
        while True:
            if sub.overflowed:
                raise TooSlow(f"watcher fell more than {MAX_BACKLOG} events behind")
            if feed.error is not None:
                raise StoreError(f"watch feed stopped: {feed.error}")
            if sub.queue:
                ev = sub.queue.popleft()
                if ev.revision > position:
                    position = ev.revision
                    idle_since = loop.time()
                    yield ev
                continue
            sub.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sub.wake.wait(), timeout=progress_every)
            if feed.stalled(loop.time()):
                log.warning(
                    "watch feed for cluster %s has not turned for %.0fs at revision %s; stopping it:\n%s",
                    cluster_id,
                    loop.time() - feed.alive,
                    feed.last,
                    feed.stack(),
                )
                feed.fail(StoreError("watch feed stalled"))
                continue
            if not sub.queue and loop.time() - idle_since >= progress_every:
                idle_since = loop.time()
                yield Progress(max(position, feed.last))
    finally:
        h.unsubscribe(feed, sub)
