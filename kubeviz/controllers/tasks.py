"""Celery's side of kube-controller-manager: one work queue per controller, and the resync.

Each controller's queue is registered with the shared work queue (``kubeviz.client.workqueue``)
when the worker loads this module (it is in ``CELERY_IMPORTS``), from the explicit registry.
"""

from __future__ import annotations

import time
from functools import partial

from kubeviz.celery import app
from kubeviz.client import clusterinfo
from kubeviz.client.sharedcache import SharedCache, default_redis
from kubeviz.client.workqueue import register
from kubeviz.controllers.base import COMPONENT, queue_for, queue_key, reconcile
from kubeviz.controllers.registry import CONTROLLERS


def register_controllers() -> None:
    """Make every registered controller's ``sync`` the reconcile function of its queue."""
    for controller in CONTROLLERS.values():
        register(controller.queue_name, partial(reconcile, controller))


register_controllers()


@app.task(name="kubeviz.controllers.tasks.resync", ignore_result=True)
def resync() -> int:
    """Queue every object of every controller whose resync period has passed; return how many."""
    r = default_redis()
    queued = 0
    now = time.time()
    for info in clusterinfo.published():
        cache = SharedCache(cluster=info.name, component=COMPONENT)
        for controller in CONTROLLERS.values():
            if controller.resync_seconds <= 0:
                continue
            marker = f"{cache.keys.base}:resynced:{controller.name}"
            if not r.set(marker, now, nx=True, ex=max(1, int(controller.resync_seconds / info.speed))):
                continue
            queue = queue_for(controller.name)
            primary = controller.watches[0]
            for obj in cache.lister(primary.resource).list():
                keys = primary.keys(obj) if primary.lookup is None else primary.lookup(cache, obj)
                for key in keys:
                    queue.add(queue_key(info.name, key))
                    queued += 1
    return queued
