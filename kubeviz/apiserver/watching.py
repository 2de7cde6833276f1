"""Watch: newline-delimited JSON events over a chunked HTTP response.

Mirrors ``k8s.io/apiserver/pkg/endpoints/handlers/watch.go`` and the watch cache:

* ``resourceVersion`` unset or "0": synthetic ADDED events for the current state, then live.
* ``resourceVersion=N``: every event after N; if N has been compacted, a single ERROR event
  carrying a 410 Expired Status (clients relist; a bare HTTP 410 would confuse them).
* ``sendInitialEvents=true`` (with ``resourceVersionMatch=NotOlderThan``): the current state
  as ADDED events, then a BOOKMARK annotated ``k8s.io/initial-events-end: "true"``.
* label and field selectors see transitions: an object that stops matching is DELETED for
  this watcher, one that starts matching is ADDED.
* ``allowWatchBookmarks=true``: periodic BOOKMARK events carrying the latest revision.
"""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubeviz.apiserver import codec, deliveries, errors, rest, storage
from kubeviz.apiserver.errors import APIError
from kubeviz.apiserver.tables import to_table
from kubeviz.store import selectors as store_selectors
from kubeviz.store import watch as store_watch
from kubeviz.store.keys import Compacted, Event, StoreError

Obj = dict[str, Any]

DEFAULT_TIMEOUT = 1800.0


@dataclass
class WatchPlan:
    """What a watch request asked for, decided before the response starts."""

    call: rest.Call
    since: int
    initial: list[Obj]
    initial_end_bookmark: bool
    bookmarks: bool
    timeout: float
    matches: Callable[[Obj], bool]
    selective: bool
    name: str
    table: str | None  # None, or the includeObject policy for Table output
    expired: APIError | None = None


def _flag(call: rest.Call, name: str) -> bool:
    return call.param(name).lower() in ("true", "1")


def plan(call: rest.Call, *, table: str | None) -> WatchPlan:
    """Validate a watch request and read its initial state (synchronously)."""
    matches, fields = rest.matcher(call)
    name = call.info.name or fields.exact("metadata.name") or ""
    selective = bool(call.param("labelSelector") or call.param("fieldSelector"))
    rv, rv_match = call.param("resourceVersion"), call.param("resourceVersionMatch")
    send_initial = call.param("sendInitialEvents")
    timeout_text = call.param("timeoutSeconds")
    try:
        timeout = float(timeout_text) if timeout_text else DEFAULT_TIMEOUT * (1 + random.random())
    except ValueError as exc:
        raise errors.bad_request(f'timeoutSeconds: Invalid value: "{timeout_text}"') from exc
    bookmarks = _flag(call, "allowWatchBookmarks")
    if send_initial:
        if rv_match != "NotOlderThan":
            raise errors.invalid(
                "ListOptions",
                "",
                [
                    errors.Cause(
                        "FieldValueForbidden",
                        "Forbidden: sendInitialEvents is forbidden for watch unless resourceVersionMatch is set to NotOlderThan",
                        "resourceVersionMatch",
                    )
                ],
                "meta.k8s.io",
            )
        if not bookmarks and send_initial == "true":
            raise errors.invalid(
                "ListOptions",
                "",
                [
                    errors.Cause(
                        "FieldValueForbidden",
                        "Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true",
                        "allowWatchBookmarks",
                    )
                ],
                "meta.k8s.io",
            )
    elif rv_match:
        raise errors.invalid(
            "ListOptions",
            "",
            [
                errors.Cause(
                    "FieldValueForbidden",
                    "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                    "resourceVersionMatch",
                )
            ],
            "meta.k8s.io",
        )
    common = dict(
        call=call,
        bookmarks=bookmarks,
        timeout=timeout,
        matches=matches,
        selective=selective,
        name=name,
        table=table,
    )
    wants_initial = send_initial == "true" or (not send_initial and rv in ("", "0"))
    if wants_initial:
        items, revision = storage.list_objects(
            call.cluster, call.resource, namespace=call.info.namespace, name=name
        )
        initial = [o for o in items if matches(o)]
        return WatchPlan(
            since=revision, initial=initial, initial_end_bookmark=send_initial == "true", **common
        )
    try:
        since = int(rv)
    except ValueError as exc:
        raise errors.bad_request(f'resourceVersion: Invalid value: "{rv}": must be an integer') from exc
    _, compacted = storage.revision(call.cluster)
    expired = None
    if since < compacted:
        expired = errors.expired(f"too old resource version: {since} ({compacted + 1})")
    return WatchPlan(since=since, initial=[], initial_end_bookmark=False, expired=expired, **common)


def _line(kind: str, obj: Obj) -> bytes:
    return codec.encode({"type": kind, "object": obj}) + b"\n"


class _Encoder:
    """Turns objects into watch lines, as plain objects or as one-row Tables."""

    def __init__(self, wp: WatchPlan) -> None:
        self.wp = wp
        self.first_table = True

    def line(self, kind: str, obj: Obj) -> bytes:
        if self.wp.table is None or kind in ("BOOKMARK", "ERROR"):
            return _line(kind, obj)
        table = to_table(
            [obj],
            resource=self.wp.call.resource,
            list_meta={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
            include_object=self.wp.table,
            now=datetime.now(UTC),
        )
        if not self.first_table:
            table["columnDefinitions"] = []
        self.first_table = False
        return _line(kind, table)


def _bookmark(wp: WatchPlan, revision: int, *, initial_end: bool = False) -> Obj:
    res = wp.call.resource
    meta: Obj = {"resourceVersion": str(revision)}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": res.kind, "apiVersion": res.api_version, "metadata": meta}


#: The previous version of recently modified objects, shared by every selective watcher of this
#: event loop: 100 kubelets watching pods by node would otherwise each read it from the store.
_PREVIOUS: OrderedDict[tuple[int, int, int], asyncio.Future[Obj | None]] = OrderedDict()
_PREVIOUS_KEPT = 4096


async def _previous(cluster_id: int, ev: Event) -> Obj | None:
    """Return the object as it was before ``ev``, reading the store once per event."""
    loop = asyncio.get_running_loop()
    key = (id(loop), cluster_id, ev.revision)
    found = _PREVIOUS.get(key)
    if found is not None and found.done() and (found.cancelled() or found.exception() is not None):
        found = None  # a failed read is tried again, never handed to the next watcher
    if found is None or found.get_loop() is not loop:
        found = _PREVIOUS[key] = asyncio.ensure_future(
            store_watch.read(store_selectors.previous, cluster_id, ev)
        )
        while len(_PREVIOUS) > _PREVIOUS_KEPT:
            _PREVIOUS.popitem(last=False)
    return await asyncio.shield(found)


async def _translate(wp: WatchPlan, ev: Event) -> tuple[str, Obj] | None:
    """Return the event this watcher should see for a store event, or None."""
    res, call = wp.call.resource, wp.call
    if ev.group != res.group or ev.resource != res.resource:
        return None
    if call.namespace and ev.namespace != call.namespace:
        return None
    if wp.name and ev.name != wp.name:
        return None
    if not wp.selective:
        return ev.type, ev.object
    now_match = wp.matches(ev.object)
    if ev.type == "ADDED":
        return ("ADDED", ev.object) if now_match else None
    if ev.type == "DELETED":
        return ("DELETED", ev.object) if now_match else None
    prev = ev.prev
    if prev is None:
        prev = await _previous(call.cluster.pk, ev)
    was_match = prev is not None and wp.matches(prev)
    if now_match and was_match:
        return "MODIFIED", ev.object
    if now_match:
        return "ADDED", ev.object
    if was_match:
        return "DELETED", ev.object
    return None


async def events(wp: WatchPlan) -> AsyncIterator[bytes]:
    """Yield the watch response body, line by line, until timeout or disconnect."""
    enc = _Encoder(wp)
    # An empty first chunk makes the server send the status line and headers now: a client
    # waiting for them (client-go does) sees its watch open before the first event.
    yield b""
    if wp.expired is not None:
        yield _line("ERROR", wp.expired.status())
        return
    for obj in wp.initial:
        yield enc.line("ADDED", obj)
    if wp.initial_end_bookmark:
        yield enc.line("BOOKMARK", _bookmark(wp, wp.since, initial_end=True))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wp.timeout
    watcher = deliveries.watcher_of(wp.call.user_agent)
    res = wp.call.resource
    stream = store_watch.stream(
        wp.call.cluster.pk, wp.since, progress_every=min(5.0, wp.timeout), kind=(res.group, res.resource)
    )
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            try:
                item = await asyncio.wait_for(stream.__anext__(), timeout=remaining)
            except TimeoutError:
                return
            except StopAsyncIteration:
                return
            except Compacted as exc:
                yield _line(
                    "ERROR",
                    errors.expired(
                        f"too old resource version: {exc.requested} ({exc.compacted + 1})"
                    ).status(),
                )
                return
            except StoreError:
                return  # the client re-watches from the last revision it saw
            if isinstance(item, store_watch.Progress):
                if wp.bookmarks:
                    yield enc.line("BOOKMARK", _bookmark(wp, item.revision))
                continue
            out = await _translate(wp, item)
            if out is not None:
                yield enc.line(out[0], out[1])
                deliveries.note(wp.call.cluster.pk, item.revision, watcher)
    finally:
        await stream.aclose()
