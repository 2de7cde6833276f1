"""The informer factory: one informer per resource for a component, feeding its shared cache.

Mirrors client-go's ``SharedInformerFactory``: every consumer inside a component that asks for
the same resource gets the same informer, so kube-controller-manager holds one watch on pods
however many of its controllers care about pods.  Each informer first writes what it sees into
the component's shared cache (``sharedcache.CacheWriter``) and then calls the consumers'
handlers, so a handler that queues a key can rely on the cache already holding the object.

Contract: register handlers with ``add_handlers`` before ``start``; ``start`` clears the
component's stale cache of each resource, then lists and watches; ``stop`` ends every watch.
``synced()`` is true once every informer has delivered its first list.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kubeviz.client.informer import EventHandlers, Informer, Obj
from kubeviz.client.rest import Client, Resource
from kubeviz.client.sharedcache import CacheWriter

log = logging.getLogger(__name__)


class InformerFactory:
    """Holds a component's informers in one cluster, one per resource."""

    def __init__(
        self,
        client: Client,
        writer: CacheWriter,
        *,
        resync_period: float = 0.0,
        make_informer: Callable[..., Informer] = Informer,
    ) -> None:
        self.client = client
        self.writer = writer
        self.resync_period = resync_period
        self._make = make_informer
        self._informers: dict[Resource, Informer] = {}
        self._handlers: dict[Resource, list[EventHandlers]] = {}
        self._stopped = threading.Event()
        self._started = False

    def informer(self, resource: Resource) -> Informer:
        """Return (creating if need be) the informer of one resource."""
        found = self._informers.get(resource)
        if found is None:
            found = self._informers[resource] = self._build(resource)
        return found

    def add_handlers(
        self,
        resource: Resource,
        *,
        on_add: Callable[[Obj], None] | None = None,
        on_update: Callable[[Obj, Obj], None] | None = None,
        on_delete: Callable[[Obj], None] | None = None,
    ) -> None:
        """Register a consumer's handlers on the informer of ``resource``."""
        self.informer(resource).add_handlers(on_add=on_add, on_update=on_update, on_delete=on_delete)

    def resources(self) -> list[Resource]:
        return list(self._informers)

    def _build(self, resource: Resource) -> Informer:
        writer = self.writer

        def cache_put(obj: Obj) -> None:
            writer.put(resource, obj)

        def cache_update(old: Obj, new: Obj) -> None:
            if old is not new:  # a resync changes nothing in the cache
                writer.put(resource, new, old)

        def cache_remove(obj: Obj) -> None:
            writer.remove(resource, obj)

        return self._make(
            self.client,
            resource,
            on_add=cache_put,
            on_update=cache_update,
            on_delete=cache_remove,
            resync_period=self.resync_period,
        )

    def start(self) -> None:
        """Clear the stale caches, then start every informer in its own thread."""
        if self._started:
            return
        self._started = True
        for resource, informer in self._informers.items():
            self.writer.reset(resource)
            informer.start()
            threading.Thread(
                target=self._mark_synced, args=(resource, informer), name=f"sync:{resource}", daemon=True
            ).start()

    def _mark_synced(self, resource: Resource, informer: Informer) -> None:
        while not informer.wait_for_sync(1.0):
            if self._stopped.is_set():
                return
        self.writer.mark_synced(resource, informer.last_resource_version)

    def synced(self) -> bool:
        return all(i.has_synced() for i in self._informers.values())

    def wait_for_sync(self, timeout: float) -> bool:
        """Block until every informer has synced, or the timeout passes."""
        deadline = threading.Event()
        timer = threading.Timer(timeout, deadline.set)
        timer.start()
        try:
            for informer in self._informers.values():
                while not informer.wait_for_sync(0.1):
                    if deadline.is_set():
                        return False
            return True
        finally:
            timer.cancel()

    def stop(self) -> None:
        """Stop every informer and wait for their threads."""
        self._stopped.set()
        for informer in self._informers.values():
            informer.stop(timeout=5.0)
        self._started = False
