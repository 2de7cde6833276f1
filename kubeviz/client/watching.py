"""Watch: one streaming request, read as a sequence of ``WatchEvent`` values.

Mirrors client-go's ``rest.Request.Watch`` with ``watch.StreamWatcher`` and the JSON framer:
the apiserver answers ``?watch=true`` with newline-delimited ``{"type", "object"}`` events.

Contract:

* ``watch(...)`` opens the request at once, so a refused watch (bad selector, unknown
  resource) raises ``APIStatusError`` from the call itself; a connection that cannot be
  opened raises ``ConnectionFailed``.
* Iterating yields ``ADDED``, ``MODIFIED``, ``DELETED`` and (with ``allow_bookmarks``)
  ``BOOKMARK`` events, in revision order, until the server ends the watch (its
  ``timeoutSeconds`` elapsed) or the connection drops; both simply end the iteration, and
  the caller watches again from the last resourceVersion it saw.
* An ``ERROR`` event carrying a 410 Status raises ``Expired``: the resourceVersion was
  compacted and the caller must list again.  Any other ``ERROR`` raises ``APIStatusError``.
* ``stop()`` may be called from another thread: it ends the iteration promptly, even while
  the reading thread is blocked waiting for the next line.  Use the watch as a context
  manager (or call ``stop()``) so the connection is always released.
* ``watch(...)`` returns once the apiserver has sent the response headers.  kubeviz's
  apiserver (under Daphne) sends them together with the first line, so opening an idle watch
  can take until the first event or bookmark; open watches where that wait is harmless (an
  informer's own thread), and ask for bookmarks, which bound it.

Simplified: JSON framing only; no ``sendInitialEvents`` streaming lists (informers list).
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import httpx
import orjson

from kubeviz.client.labels import Selector
from kubeviz.client.rest import APIStatusError, Client, Resource, Status

log = logging.getLogger(__name__)

Obj = dict[str, Any]

# Extra seconds the client waits for a line beyond the server's own timeout, so the server,
# not the client, ends a healthy watch.
READ_SLACK = 30.0


class EventType(StrEnum):
    """The kinds of watch events."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    BOOKMARK = "BOOKMARK"
    ERROR = "ERROR"


@dataclass(frozen=True)
class WatchEvent:
    """One watch event: what happened and the object as it is now (or was, if deleted)."""

    type: EventType
    object: Obj

    @property
    def resource_version(self) -> str:
        """Return the revision this event brings the watcher to."""
        return str((self.object.get("metadata") or {}).get("resourceVersion") or "")


class Expired(APIStatusError):
    """The watch's resourceVersion was compacted away (410): list again, then watch."""


def _error(obj: Obj) -> APIStatusError:
    status = Status.from_dict(obj)
    if status.code == 410 or status.reason in ("Expired", "Gone"):
        return Expired(status)
    return APIStatusError(status)


def parse_line(line: str | bytes) -> WatchEvent:
    """Decode one line of a watch response; raise for an ERROR event."""
    raw = orjson.loads(line)
    try:
        kind = EventType(raw["type"])
        obj = raw.get("object") or {}
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"not a watch event: {line[:200]!r}") from exc
    if kind is EventType.ERROR:
        raise _error(obj)
    return WatchEvent(type=kind, object=obj)


class Watch:
    """An open watch: iterate it for events, ``stop()`` it from anywhere."""

    def __init__(self, opened: AbstractContextManager[httpx.Response]) -> None:
        self._opened = opened
        self._response = opened.__enter__()
        self._stopped = threading.Event()
        self._closed = False
        self._lock = threading.Lock()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._close()

    def __iter__(self) -> Iterator[WatchEvent]:
        try:
            for line in self._response.iter_lines():
                if self._stopped.is_set():
                    return
                if line.strip():
                    yield parse_line(line)
        except (httpx.TransportError, httpx.StreamError) as exc:
            # A dropped connection ends the watch like a server timeout does.
            if not self._stopped.is_set():
                log.debug("watch stream ended: %r", exc)
        finally:
            self._close()

    @property
    def stopped(self) -> bool:
        """Tell whether ``stop()`` was called."""
        return self._stopped.is_set()

    def stop(self) -> None:
        """End the watch; safe from any thread, and more than once."""
        self._stopped.set()
        # Shutting the socket down wakes a reader blocked in recv(); closing it would not.
        stream = self._response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def _close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        with contextlib.suppress(Exception):
            self._opened.__exit__(None, None, None)


def watch(
    client: Client,
    resource: Resource,
    *,
    namespace: str | None = None,
    resource_version: str,
    label_selector: Selector | str | None = None,
    field_selector: str | None = None,
    allow_bookmarks: bool = True,
    timeout_seconds: int | None = 300,
) -> Watch:
    """Open a watch on a collection from ``resource_version`` (exclusive).

    ``resource_version=""`` asks for the current state as ADDED events first; informers
    never do that, they list and watch from the list's revision.
    """
    params: dict[str, str] = {"watch": "true", "resourceVersion": resource_version}
    selector = None if label_selector is None else str(label_selector)
    if selector:
        params["labelSelector"] = selector
    if field_selector:
        params["fieldSelector"] = field_selector
    if allow_bookmarks:
        params["allowWatchBookmarks"] = "true"
    if timeout_seconds is not None:
        params["timeoutSeconds"] = str(timeout_seconds)
    read_timeout = None if timeout_seconds is None else timeout_seconds + READ_SLACK
    opened = client.stream(resource.path(namespace=namespace), params=params, read_timeout=read_timeout)
    return Watch(opened)
