"""kube-controller-manager's informer side: watches in, keys onto the work queues.

Mirrors ``cmd/kube-controller-manager/app``: one shared informer factory per instance, every
enabled controller's event handlers registered on it, then the informers started.  Here the
handlers do the first half of each controller's loop (see ``base.py``): write the cache (the
factory does that), run the ``observe`` hook, and queue the keys the ``Watch`` maps the
object to.  The reconciles run on Celery workers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from kubeviz.client.factory import InformerFactory
from kubeviz.client.informer import Obj
from kubeviz.client.rest import Client
from kubeviz.client.sharedcache import CacheWriter, SharedCache
from kubeviz.client.workqueue import WorkQueue
from kubeviz.controllers.base import COMPONENT, Controller, Observation, Watch, queue_key
from kubeviz.controllers.expectations import Expectations

log = logging.getLogger(__name__)


class ControllerManager:
    """Runs the informers of a set of controllers for one cluster."""

    def __init__(
        self,
        *,
        cluster: str,
        client: Client,
        controllers: Iterable[Controller],
        queues: dict[str, WorkQueue] | None = None,
    ) -> None:
        self.cluster = cluster
        self.controllers = list(controllers)
        self.factory = InformerFactory(client, CacheWriter(cluster=cluster, component=COMPONENT))
        self.queues = queues if queues is not None else {}
        for controller in self.controllers:
            queue = self.queues.setdefault(controller.name, WorkQueue(controller.queue_name))
            expectations = Expectations(cluster=cluster, controller=controller.name)
            for watch in controller.watches:
                self._wire(watch, queue, expectations)
            for resource in controller.reads:
                self.factory.informer(resource)

    def _wire(self, watch: Watch, queue: WorkQueue, expectations: Expectations) -> None:
        cluster = self.cluster
        cache = SharedCache(cluster=cluster, component=COMPONENT)

        def enqueue(obj: Obj) -> None:
            for key in watch.keys(obj) if watch.lookup is None else watch.lookup(cache, obj):
                queue.add(queue_key(cluster, key))

        def observe(event: str, obj: Obj, old: Obj | None) -> None:
            if watch.observe is not None:
                watch.observe(Observation(cluster, event, obj, old, expectations))

        def on_add(obj: Obj) -> None:
            observe("ADDED", obj, None)
            enqueue(obj)

        def on_update(old: Obj, new: Obj) -> None:
            if old is not new:
                observe("MODIFIED", new, old)
                enqueue(old)
            enqueue(new)

        def on_delete(obj: Obj) -> None:
            observe("DELETED", obj, None)
            enqueue(obj)

        self.factory.add_handlers(watch.resource, on_add=on_add, on_update=on_update, on_delete=on_delete)

    def start(self) -> None:
        self.factory.start()

    def stop(self) -> None:
        self.factory.stop()
