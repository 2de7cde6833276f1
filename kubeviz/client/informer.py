"""Informer: list, then watch, and keep a local cache of one resource in step with the cluster.

Mirrors client-go's ``tools/cache``: the Reflector (list with paging, watch from the list's
resourceVersion, resume, relist on 410), the DeltaFIFO's ``Replace`` (a relist is delivered
as the difference from the cache), the thread-safe store with its namespace index, and the
shared informer's handler contract and periodic resync.

Contract for event handlers (read this before writing one):

* Handlers only enqueue.  ``on_add(obj)``, ``on_update(old, new)`` and ``on_delete(obj)``
  should turn the object into a key (``cache_key``) and put it on a work queue, nothing
  more.  The reconcile reads current state from a ``Lister`` later; it never trusts the
  event payload, because events can be coalesced, repeated or (after a relist) synthesised.
* Handlers must be quick and must not block: they run on the informer's own thread, one
  at a time, in the order the apiserver sent the events; a slow handler delays every event
  after it.  An exception in a handler is logged and does not stop the informer.
* Objects handed to handlers and returned by the cache are shared: treat them as read-only
  and copy before changing anything.
* ``on_update(old, new)`` is also called with ``old is new`` by the periodic resync (every
  ``resync_period`` seconds, when one is set), so that level-based loops revisit every
  object.  Bookmarks advance the informer's resourceVersion and call no handler.
* After a relist (on 410 Expired), handlers see only the difference from the cache: adds for
  new keys, updates for keys whose resourceVersion changed, deletes for keys that vanished
  (``on_delete`` then gets the last state the cache knew).
* A selector informer sees an object that stops matching as deleted and one that starts
  matching as added, because the apiserver's watch reports those transitions.
* ``on_delete`` gets the object as the DELETED event carried it (its final state), whether or
  not the cache held it.

Consistency: the cache is always a state the apiserver was in at ``last_resource_version``
(possibly behind the present).  ``has_synced()`` turns true once the first list has been
delivered to the handlers; controllers wait for it before their first reconcile.

Time is injected: ``clock`` (monotonic seconds) drives resync, ``sleep`` the backoff between
failed attempts.  Without an injected ``sleep`` the informer waits on its stop event, so
``stop()`` interrupts a backoff.

Simplified: one informer per resource and selector (no sharing between controllers, no
indexers beyond namespace), handlers are called directly rather than through per-listener
buffers, and resync is checked whenever the watch yields an event (the apiserver sends a
bookmark at least every few seconds, so this is often enough).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeviz.client.labels import Selector
from kubeviz.client.rest import APIStatusError, Backoff, Client, ClientError, Resource
from kubeviz.client.watching import EventType, Watch, WatchEvent, watch

log = logging.getLogger(__name__)

Obj = dict[str, Any]
AddHandler = Callable[[Obj], None]
UpdateHandler = Callable[[Obj, Obj], None]
DeleteHandler = Callable[[Obj], None]

WATCH_BACKOFF = Backoff(base=0.5, factor=2.0, cap=30.0)

# A watch shorter than this (seconds) that brought no event counts as a failed attempt.
MIN_QUIET_WATCH = 1.0


def cache_key(obj: Mapping[str, Any]) -> str:
    """Return an object's key: ``namespace/name``, or ``name`` for cluster-scoped objects."""
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name") or "", meta.get("namespace") or ""
    if not name:
        raise ValueError("an object without metadata.name has no cache key")
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str, str]:
    """Return ``(namespace, name)`` of a key; the namespace is ``""`` for cluster-scoped objects."""
    namespace, _, name = key.rpartition("/")
    return namespace, name


def resource_version_of(obj: Mapping[str, Any]) -> str:
    """Return an object's ``metadata.resourceVersion`` (``""`` when absent)."""
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


@dataclass(frozen=True)
class EventHandlers:
    """The three callbacks one consumer registers; any may be None."""

    on_add: AddHandler | None = None
    on_update: UpdateHandler | None = None
    on_delete: DeleteHandler | None = None


class Store:
    """A thread-safe map of key → object with a namespace index (client-go's ThreadSafeStore)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._items: dict[str, Obj] = {}
        self._by_namespace: dict[str, set[str]] = {}

    def get(self, key: str) -> Obj | None:
        """Return the object stored under ``key``, or None."""
        with self._lock:
            return self._items.get(key)

    def put(self, key: str, obj: Obj) -> Obj | None:
        """Store ``obj`` under ``key``; return what was there before."""
        with self._lock:
            old = self._items.get(key)
            self._items[key] = obj
            self._by_namespace.setdefault(split_key(key)[0], set()).add(key)
            return old

    def remove(self, key: str) -> Obj | None:
        """Drop ``key``; return what was there."""
        with self._lock:
            old = self._items.pop(key, None)
            keys = self._by_namespace.get(split_key(key)[0])
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_namespace[split_key(key)[0]]
            return old

    def keys(self) -> list[str]:
        """Return every key, sorted."""
        with self._lock:
            return sorted(self._items)

    def items(self, namespace: str | None = None) -> list[Obj]:
        """Return every object (of one namespace, if given), sorted by key."""
        with self._lock:
            if namespace is None:
                return [self._items[k] for k in sorted(self._items)]
            return [self._items[k] for k in sorted(self._by_namespace.get(namespace, ()))]

    def snapshot(self) -> dict[str, Obj]:
        """Return a shallow copy of the whole map."""
        with self._lock:
            return dict(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class Informer:
    """Keep a cache of one resource (optionally one namespace / selector) and report changes."""

    def __init__(
        self,
        client: Client,
        resource: Resource,
        *,
        namespace: str | None = None,
        label_selector: Selector | str | None = None,
        field_selector: str | None = None,
        on_add: AddHandler | None = None,
        on_update: UpdateHandler | None = None,
        on_delete: DeleteHandler | None = None,
        resync_period: float = 0.0,
        page_size: int = 500,
        watch_timeout: int = 300,
        backoff: Backoff = WATCH_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.client = client
        self.resource = resource
        self.namespace = namespace
        self.label_selector = None if label_selector is None else str(label_selector)
        self.field_selector = field_selector
        self.resync_period = resync_period
        self.page_size = page_size
        self.watch_timeout = watch_timeout
        self.backoff = backoff
        self.store = Store()
        self._clock = clock
        self._sleep = sleep
        self._handlers: list[EventHandlers] = []
        self._dispatch = threading.RLock()  # one event (and its handler calls) at a time
        self._synced = threading.Event()
        self._stop: threading.Event | None = None
        self._watch: Watch | None = None
        self._watch_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._next_resync = 0.0
        self.last_resource_version = ""
        if on_add or on_update or on_delete:
            self._handlers.append(EventHandlers(on_add, on_update, on_delete))

    def __repr__(self) -> str:
        return f"Informer({self.resource}, namespace={self.namespace!r}, selector={self.label_selector!r})"

    # --- handlers -----------------------------------------------------------------------

    def add_handlers(
        self,
        *,
        on_add: AddHandler | None = None,
        on_update: UpdateHandler | None = None,
        on_delete: DeleteHandler | None = None,
    ) -> None:
        """Register more handlers; if the cache is already filled, replay it as adds to them."""
        handlers = EventHandlers(on_add, on_update, on_delete)
        with self._dispatch:
            self._handlers.append(handlers)
            if self._synced.is_set() and on_add is not None:
                for obj in self.store.items():
                    self._call(on_add, obj)

    def _call(self, fn: Callable[..., None], *args: Obj) -> None:
        try:
            fn(*args)
        except Exception:
            log.exception("%r: event handler %r failed", self, fn)

    def _added(self, obj: Obj) -> None:
        for h in self._handlers:
            if h.on_add is not None:
                self._call(h.on_add, obj)

    def _updated(self, old: Obj, new: Obj) -> None:
        for h in self._handlers:
            if h.on_update is not None:
                self._call(h.on_update, old, new)

    def _deleted(self, obj: Obj) -> None:
        for h in self._handlers:
            if h.on_delete is not None:
                self._call(h.on_delete, obj)

    # --- cache reads --------------------------------------------------------------------

    def has_synced(self) -> bool:
        """Tell whether the first list has been stored and delivered to the handlers."""
        return self._synced.is_set()

    def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Block until ``has_synced()`` (or the timeout); return whether it synced."""
        return self._synced.wait(timeout)

    def get(self, key: str) -> Obj | None:
        """Return the cached object with this key, or None."""
        return self.store.get(key)

    def items(self, namespace: str | None = None) -> list[Obj]:
        """Return the cached objects (of one namespace, if given)."""
        return self.store.items(namespace)

    def keys(self) -> list[str]:
        """Return the cached keys."""
        return self.store.keys()

    # --- list and replace ---------------------------------------------------------------

    def replace(self, items: Iterable[Obj], resource_version: str) -> None:
        """Make the cache equal to a fresh list and deliver the difference to the handlers."""
        with self._dispatch:
            fresh = {cache_key(obj): obj for obj in items}
            before = self.store.snapshot()
            for key, obj in fresh.items():
                old = self.store.put(key, obj)
                if old is None:
                    self._added(obj)
                elif resource_version_of(old) != resource_version_of(obj):
                    self._updated(old, obj)
            for key in sorted(before.keys() - fresh.keys()):
                gone = self.store.remove(key)
                if gone is not None:
                    self._deleted(gone)
            self.last_resource_version = resource_version
            if not self._synced.is_set():
                self._next_resync = self._clock() + self.resync_period
                self._synced.set()

    def _list(self) -> None:
        result = self.client.list_all(
            self.resource,
            namespace=self.namespace,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            page_size=self.page_size,
        )
        self.replace(result.items, result.resource_version)

    # --- watch events -------------------------------------------------------------------

    def handle(self, event: WatchEvent) -> None:
        """Apply one watch event to the cache and tell the handlers."""
        with self._dispatch:
            rv = event.resource_version
            if event.type is EventType.BOOKMARK:
                if rv:
                    self.last_resource_version = rv
                return
            key = cache_key(event.object)
            if event.type is EventType.DELETED:
                self.store.remove(key)
                self._deleted(event.object)
            else:
                old = self.store.put(key, event.object)
                if old is None:
                    self._added(event.object)
                else:
                    self._updated(old, event.object)
            if rv:
                self.last_resource_version = rv

    def resync(self) -> None:
        """Call ``on_update(obj, obj)`` for every cached object."""
        with self._dispatch:
            for obj in self.store.items():
                self._updated(obj, obj)

    def resync_if_due(self) -> bool:
        """Resync when ``resync_period`` has passed since the last one; return whether it did."""
        if self.resync_period <= 0 or not self._synced.is_set():
            return False
        now = self._clock()
        if now < self._next_resync:
            return False
        self._next_resync = now + self.resync_period
        self.resync()
        return True

    # --- the loop -----------------------------------------------------------------------

    def _wait(self, stop: threading.Event, seconds: float) -> None:
        if self._sleep is not None:
            self._sleep(seconds)
        else:
            stop.wait(seconds)

    def _watch_once(self, stop: threading.Event) -> bool:
        """Watch from the last resourceVersion until the stream ends; return whether any event came."""
        w = watch(
            self.client,
            self.resource,
            namespace=self.namespace,
            resource_version=self.last_resource_version,
            label_selector=self.label_selector,
            field_selector=self.field_selector,
            allow_bookmarks=True,
            timeout_seconds=self.watch_timeout,
        )
        with self._watch_lock:
            self._watch = w
        if stop.is_set():  # stop() may have run before the watch was published
            w.stop()
        seen = False
        try:
            with w:
                for event in w:
                    self.handle(event)
                    seen = True
                    self.resync_if_due()
                    if stop.is_set():
                        break
        finally:
            with self._watch_lock:
                self._watch = None
        return seen

    def run(self, stop: threading.Event) -> None:
        """List, then watch and re-watch until ``stop`` is set (blocking).

        Setting ``stop`` ends the loop promptly, even while a watch waits for events.
        """
        self._stop = stop
        threading.Thread(
            target=self._interrupt_on, args=(stop,), name=f"{self!r} stopper", daemon=True
        ).start()
        must_list, failures = True, 0
        while not stop.is_set():
            try:
                if must_list:
                    self._list()
                    must_list, failures = False, 0
                    continue
                self.resync_if_due()
                started = self._clock()
                if self._watch_once(stop) or self._clock() - started >= MIN_QUIET_WATCH:
                    failures = 0  # the server ended a healthy watch: resume at once
                    continue
                # A watch that ends at once with nothing in it is a failure in disguise.
                failures += 1
                self._wait(stop, self.backoff.delay(failures))
            except APIStatusError as exc:
                if exc.is_expired():
                    log.info("%r: %s; listing again", self, exc.message)
                    must_list = True
                    continue
                failures += 1
                self._back_off(stop, exc, failures)
            except (ClientError, ValueError) as exc:
                failures += 1
                self._back_off(stop, exc, failures)

    def _back_off(self, stop: threading.Event, exc: Exception, failures: int) -> None:
        delay = self.backoff.delay(failures)
        log.warning("%r: %s; retrying in %.2fs", self, exc, delay)
        self._wait(stop, delay)

    def _interrupt_on(self, stop: threading.Event) -> None:
        stop.wait()
        with self._watch_lock:
            if self._watch is not None:
                self._watch.stop()

    def start(self) -> threading.Event:
        """Run the informer in a daemon thread; return the event that stops it."""
        stop = threading.Event()
        self._stop = stop
        self._thread = threading.Thread(target=self.run, args=(stop,), name=repr(self), daemon=True)
        self._thread.start()
        return stop

    def stop(self, *, timeout: float | None = 5.0) -> None:
        """Stop the loop, interrupting a watch that is waiting for events, and join its thread."""
        if self._stop is not None:
            self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
