"""The browser's websocket: one cluster's state, then everything that happens to it.

``/ws/clusters/<name>/[?since=<revision>]`` sends JSON frames ``{"seq", "messages": [...]}``.
The browser acknowledges each frame with ``{"ack": seq}``; at most ``WINDOW`` frames are
unacknowledged at a time, so a browser that cannot keep up stops being sent to, and what
waits for it collects in its bounded ``Outbox`` (coalesced or dropped, and said so) instead
of in the server's socket buffers.  Fast browsers are not slowed by slow ones: every
connection has its own outbox and tasks.

Messages:

* ``snapshot``: ``revision``, ``machines`` (as the explorer API lists them) and ``objects``,
  every API object as of ``revision`` (Events left out).  Sent on connect, and again if the
  browser's ``since`` was compacted away or its watch could not continue.
* ``event``: ``event`` (ADDED, MODIFIED, DELETED), ``kind``, ``group``, ``resource``,
  ``namespace``, ``name``, ``uid``, ``revision`` and ``object``, once per write after the
  snapshot or ``since``, in revision order.  The same facts as an HTTP watch.
* ``request``: one apiserver request: ``component``, ``client`` (the instance, such as the
  node of a kubelet, when its User-Agent names one), ``verb``, ``resource``,
  ``subresource``, ``namespace``, ``name``, ``code``, ``latency`` (ms) and the ``revision``
  it wrote.
* ``action``: a node-local action: a runtime call, a CNI ADD/DEL with its IP, a kube-proxy
  sync or a route change.
* ``scheduling``: one kube-scheduler attempt: the pod, the node chosen (or none and why),
  how many nodes were evaluated and feasible, the filter plugins that rejected the first
  nodes, and the best totals.
* ``delivered``: ``revision`` and ``watchers``: the watches (``component`` or
  ``component/instance``) that were sent the event at that revision.  Several may come for
  one revision (one per apiserver process).
* ``machines``: the machines again, whenever one is powered or switched.
* ``idle``: nothing happened; the cluster is at ``revision`` (lets a browser resume from it).
* ``coalesced``: this browser fell behind; ``coalesced`` intermediate states were skipped
  and ``dropped`` counts the traces and actions left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
import redis.asyncio as aioredis
from asgiref.sync import sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from kubeviz.apiserver import deliveries, feed, trace
from kubeviz.client import nodeactions
from kubeviz.cluster import selectors as cluster_selectors
from kubeviz.scheduler import results as sched_results
from kubeviz.stream.outbox import Outbox
from kubeviz.web import activity

log = logging.getLogger(__name__)

#: Frames a browser may leave unacknowledged before the server waits for it.
WINDOW = 4
#: Messages per frame.
FRAME = 250
#: Messages an outbox holds before it coalesces state and drops traces.
OUTBOX_LIMIT = 2000
MACHINES_EVERY = 1.0
#: A websocket close code for "the cluster is gone" (4000–4999 are the application's).
CLOSE_NO_CLUSTER = 4404


def slim(obj: dict[str, Any]) -> dict[str, Any]:
    """The object as the canvas needs it: without managedFields, which only the YAML view shows."""
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
    return obj


def client_of(user_agent: str) -> str:
    """The instance in a kubeviz User-Agent (``kubelet/v1.36.0 (linux/amd64) kubeviz/worker-1``)."""
    for token in user_agent.split():
        if token.startswith("kubeviz/"):
            return token.removeprefix("kubeviz/")[:253]
    return ""


def _key(group: str, resource: str, namespace: str, name: str) -> tuple[str, str, str, str]:
    return (group, resource, namespace, name)


class ClusterStream(AsyncWebsocketConsumer):
    #: The stream reads the store's watch and Redis streams itself; it joins no channel-layer
    #: group, so it asks for a layer that is not configured and Channels gives it none.
    channel_layer_alias = "kubeviz-stream-needs-no-layer"

    async def connect(self) -> None:
        self.cluster = self.scope["url_route"]["kwargs"]["name"]
        query = parse_qs(self.scope.get("query_string", b"").decode())
        since = query.get("since", [""])[0]
        self.since = int(since) if since.isdigit() else None
        try:
            self.cluster_id = await sync_to_async(feed.cluster_id, thread_sensitive=False)(self.cluster)
        except feed.Gone:
            await self.close(code=CLOSE_NO_CLUSTER)
            return
        await self.accept()
        await sync_to_async(activity.touch, thread_sensitive=False)(self.cluster)
        self.outbox = Outbox(limit=OUTBOX_LIMIT)
        self.ready = asyncio.Event()
        self.window = asyncio.Event()
        self.window.set()
        self.sent = 0
        self.acked = 0
        self.tasks = [
            asyncio.create_task(self._objects(), name=f"stream-objects-{self.cluster}"),
            asyncio.create_task(self._traces(), name=f"stream-traces-{self.cluster}"),
            asyncio.create_task(self._actions(), name=f"stream-actions-{self.cluster}"),
            asyncio.create_task(self._decisions(), name=f"stream-decisions-{self.cluster}"),
            asyncio.create_task(self._deliveries(), name=f"stream-deliveries-{self.cluster}"),
            asyncio.create_task(self._machines(), name=f"stream-machines-{self.cluster}"),
            asyncio.create_task(self._sender(), name=f"stream-sender-{self.cluster}"),
        ]

    async def disconnect(self, code: int) -> None:
        for task in getattr(self, "tasks", []):
            task.cancel()
        for task in getattr(self, "tasks", []):
            with contextlib.suppress(BaseException):
                await task

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = orjson.loads(text_data or bytes_data or b"{}")
        except orjson.JSONDecodeError:
            return
        ack = message.get("ack") if isinstance(message, dict) else None
        if isinstance(ack, int) and self.acked < ack <= self.sent:
            self.acked = ack
            if self.sent - self.acked < WINDOW:
                self.window.set()

    # --- producers -----------------------------------------------------------------------

    def _queue(self, message: dict[str, Any], *, key: Any = None) -> None:
        if message["type"] == "snapshot":
            self.outbox.put_reset(message)
        elif key is not None:
            self.outbox.put_state(key, message)
        else:
            self.outbox.put_passing(message)
        self.ready.set()

    async def _snapshot(self) -> int:
        snap = await sync_to_async(feed.snapshot, thread_sensitive=False)(self.cluster)
        machines = await sync_to_async(cluster_selectors.machines, thread_sensitive=False)(self.cluster)
        self._queue(
            {
                "type": "snapshot",
                # A live link's viewer keeps seeing the link's token, never the cluster's name.
                "cluster": getattr(self.scope.get("kubeviz_link"), "token", self.cluster),
                "revision": snap.revision,
                "machines": machines,
                "objects": [
                    {
                        "kind": res.kind,
                        "group": res.group,
                        "resource": res.resource,
                        "object": slim(obj),
                    }
                    for res, obj in snap.objects
                ],
            }
        )
        return snap.revision

    async def _objects(self) -> None:
        since = self.since
        while True:
            try:
                if since is None:
                    since = await self._snapshot()
                async for item in feed.follow(self.cluster, since):
                    if isinstance(item, feed.Idle):
                        self._queue({"type": "idle", "revision": item.revision})
                        continue
                    since = item.revision
                    self._queue(
                        {
                            "type": "event",
                            "event": item.type,
                            "kind": item.kind,
                            "group": item.group,
                            "resource": item.resource,
                            "namespace": item.namespace,
                            "name": item.name,
                            "uid": (item.object.get("metadata") or {}).get("uid", ""),
                            "revision": item.revision,
                            "object": slim(item.object),
                        },
                        key=_key(item.group, item.resource, item.namespace, item.name),
                    )
                return
            except feed.Expired:
                since = None  # what the browser missed is gone: start from a fresh snapshot
                await asyncio.sleep(0.1)
            except feed.Gone:
                await self.close(code=CLOSE_NO_CLUSTER)
                return

    async def _tail(self, key: str, convert: Any) -> None:
        """Follow a Redis stream from now, queueing each entry as a passing message."""
        client = aioredis.Redis.from_url(settings.REDIS_URL)
        last = "$"
        try:
            while True:
                try:
                    rows = await client.xread({key: last}, block=1000, count=500)
                except aioredis.RedisError as exc:
                    log.warning("stream %s: %s", key, exc)
                    await asyncio.sleep(1)
                    continue
                for _key, entries in rows:
                    for rid, fields in entries:
                        last = rid
                        message = convert(fields)
                        if message is not None:
                            self._queue(message)
        finally:
            await client.aclose()

    async def _traces(self) -> None:
        def convert(fields: dict[bytes, bytes]) -> dict[str, Any]:
            f = {k.decode(): v.decode() for k, v in fields.items()}
            return {
                "type": "request",
                "component": f.get("component", ""),
                "client": client_of(f.get("user_agent", "")),
                "verb": f.get("verb", ""),
                "resource": f.get("resource", ""),
                "subresource": f.get("subresource", ""),
                "namespace": f.get("namespace", ""),
                "name": f.get("name", ""),
                "code": int(f.get("code") or 0),
                "latency": float(f.get("latency_ms") or 0.0),
                "revision": int(f["revision"]) if f.get("revision") else None,
            }

        await self._tail(trace.stream_key(self.cluster_id), convert)

    async def _actions(self) -> None:
        def convert(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
            raw = fields.get(b"a")
            return {"type": "action", **orjson.loads(raw)} if raw else None

        await self._tail(nodeactions.stream_key(self.cluster), convert)

    async def _decisions(self) -> None:
        def convert(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
            raw = fields.get(b"d")
            return {"type": "scheduling", **orjson.loads(raw)} if raw else None

        await self._tail(sched_results.stream_key(self.cluster), convert)

    async def _deliveries(self) -> None:
        def convert(fields: dict[bytes, bytes]) -> dict[str, Any] | None:
            raw = fields.get(b"w", b"").decode()
            return {
                "type": "delivered",
                "revision": int(fields[b"r"]),
                "watchers": raw.split(",") if raw else [],
            }

        await self._tail(deliveries.stream_key(self.cluster_id), convert)

    async def _machines(self) -> None:
        digest = await sync_to_async(cluster_selectors.machines_digest, thread_sensitive=False)(self.cluster)
        while True:
            await asyncio.sleep(MACHINES_EVERY)
            await sync_to_async(activity.touch, thread_sensitive=False)(self.cluster)  # a viewer is here
            now = await sync_to_async(cluster_selectors.machines_digest, thread_sensitive=False)(self.cluster)
            if now != digest:
                digest = now
                machines = await sync_to_async(cluster_selectors.machines, thread_sensitive=False)(
                    self.cluster
                )
                self._queue({"type": "machines", "machines": machines})

    # --- the one sender ------------------------------------------------------------------

    async def _sender(self) -> None:
        while True:
            await self.ready.wait()
            await self.window.wait()
            messages = self.outbox.take(FRAME)
            if not messages:
                self.ready.clear()
                continue
            self.sent += 1
            if self.sent - self.acked >= WINDOW:
                self.window.clear()
            await self.send(text_data=orjson.dumps({"seq": self.sent, "messages": messages}).decode())
