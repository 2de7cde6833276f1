"""The loop skeleton every controller of kube-controller-manager runs on.

Mirrors the shape of ``pkg/controller/replicaset/replica_set.go`` and its siblings: event
handlers only turn objects into keys of the controller's primary resource, and workers run
``sync(key)``, which reads listers (never event payloads) and converges.  kubeviz splits the
two halves across processes (DESIGN.md rule 4):

* the control-plane process (``kubeviz.controlplane``) runs the informers.  For every event
  it writes the object into the shared cache, calls the controller's ``observe`` hook
  (expectations), and adds the keys ``Watch.keys`` returns to the controller's work queue;
* a Celery task runs ``Controller.sync(ctx, key)`` for one key on any worker.  ``ctx`` gives
  it the listers over the shared cache, a client with the controller's identity, the work
  queue (to requeue later), an event recorder, expectations and the cluster's clock.

A new controller is a ``Controller`` value, its ``sync`` function and one line in
``registry.py``.

Contract for ``sync``: read current state from ``ctx.lister(...)``, write through
``ctx.client``, and be idempotent; a reconcile that is killed half-way and run again must end
in the same state (DESIGN.md rule 3).  Raise to have the key retried with backoff; return to
finish.  Ask for a later look with ``ctx.requeue_after(key, seconds)``.

Keys on the queue are ``<cluster>|<namespace>/<name>`` so one queue per controller serves
every cluster; ``sync`` sees only the ``namespace/name`` part.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kubeviz.client.clusterinfo import ClusterInfo, client_for, cluster_info
from kubeviz.client.events import EventRecorder
from kubeviz.client.informer import cache_key
from kubeviz.client.rest import Client, Resource
from kubeviz.client.sharedcache import SharedCache, SharedLister
from kubeviz.client.workqueue import WorkQueue
from kubeviz.controllers.expectations import Expectations

log = logging.getLogger(__name__)

Obj = dict[str, Any]
COMPONENT = "kube-controller-manager"
#: How often the workload controllers revisit every object they own (seconds at speed 1),
#: so a lost event can delay a reconcile but never skip it.  Celery beat drives it.
RESYNC_SECONDS = 300.0
QUEUE_PREFIX = f"{COMPONENT}:"


def own_key(obj: Mapping[str, Any]) -> list[str]:
    """Map an object of the primary resource to its own key."""
    return [cache_key(obj)]


def controller_ref(obj: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the ownerReference with ``controller: true``, or None."""
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def owner_key(kind: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """Map an object to the key of its controlling owner when that owner is a ``kind``."""

    def keys(obj: Mapping[str, Any]) -> list[str]:
        ref = controller_ref(obj)
        if ref is None or ref.get("kind") != kind:
            return []
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        return [f"{namespace}/{ref['name']}" if namespace else ref["name"]]

    return keys


@dataclass(frozen=True)
class Observation:
    """What an ``observe`` hook is told about one event in the informer process."""

    cluster: str
    event: str  # "ADDED", "MODIFIED" or "DELETED"
    obj: Obj
    old: Obj | None
    expectations: Expectations


@dataclass(frozen=True)
class Watch:
    """One resource a controller watches, and how its events become keys to reconcile."""

    resource: Resource
    #: The keys (of the controller's primary resource) an object of this resource concerns.
    keys: Callable[[Obj], Iterable[str]] = own_key
    #: Called in the informer process before the keys are queued (expectations live here).
    observe: Callable[[Observation], None] | None = None
    #: Used instead of ``keys`` when the mapping must read the shared cache (a pod's Services
    #: are the ones whose selector matches it, as upstream's ``GetPodServiceMemberships``).
    lookup: Callable[[SharedCache, Obj], Iterable[str]] | None = None


@dataclass(frozen=True)
class Controller:
    """One controller of kube-controller-manager: what it watches and how it reconciles."""

    #: Its name as ``--controllers`` spells it: ``deployment``, ``replicaset`` …
    name: str
    sync: Callable[[Context, str], None]
    watches: tuple[Watch, ...]
    #: Revisit every primary object this often (seconds at speed 1); 0 disables resync.
    resync_seconds: float = 0.0
    #: More resources the sync reads through listers without reacting to their events.
    reads: tuple[Resource, ...] = ()
    #: The ``source.component`` of its events, where upstream's differs from the identity
    #: (``endpoint-slice-controller``, ``node-controller``).
    event_source: str = ""

    @property
    def identity(self) -> str:
        """The name in its User-Agent and events: ``deployment-controller``."""
        return f"{self.name}-controller"

    @property
    def queue_name(self) -> str:
        return QUEUE_PREFIX + self.name

    def resources(self) -> list[Resource]:
        """Return every resource whose cache the sync may read."""
        seen: dict[Resource, None] = {}
        for w in self.watches:
            seen.setdefault(w.resource, None)
        for r in self.reads:
            seen.setdefault(r, None)
        return list(seen)


def utc_now() -> datetime:
    """Return the current time (the default clock)."""
    return datetime.now(UTC)


@dataclass
class Context:
    """Everything one ``sync`` may use, for one cluster and one controller."""

    cluster: str
    controller: Controller
    client: Client
    cache: SharedCache
    queue: WorkQueue
    events: EventRecorder
    expectations: Expectations
    info: ClusterInfo
    clock: Callable[[], datetime] = utc_now
    _listers: dict[Resource, SharedLister] = field(default_factory=dict)

    def lister(self, resource: Resource) -> SharedLister:
        """Return a lister over the shared cache of one resource."""
        found = self._listers.get(resource)
        if found is None:
            found = self._listers[resource] = self.cache.lister(resource)
        return found

    def now(self) -> datetime:
        """Return the cluster's current time."""
        return self.clock()

    def scaled(self, seconds: float) -> float:
        """Scale a Kubernetes default duration by the cluster's speed setting."""
        return seconds / self.info.speed

    def requeue_after(self, key: str, seconds: float) -> None:
        """Reconcile ``key`` again in ``seconds`` (real seconds, already scaled if need be)."""
        self.queue.add_after(queue_key(self.cluster, key), seconds)

    def enqueue(self, key: str) -> None:
        """Reconcile ``key`` of this controller soon."""
        self.queue.add(queue_key(self.cluster, key))


def queue_key(cluster: str, key: str) -> str:
    """Join a cluster and an object key into a work-queue key."""
    return f"{cluster}|{key}"


def split_queue_key(qkey: str) -> tuple[str, str]:
    """Split a work-queue key into cluster and object key."""
    cluster, _, key = qkey.partition("|")
    return cluster, key


def queue_for(controller_name: str) -> WorkQueue:
    """Return a controller's work queue."""
    return WorkQueue(QUEUE_PREFIX + controller_name)


def context_for(controller: Controller, cluster: str, *, info: ClusterInfo) -> Context:
    """Build the context a sync of ``controller`` runs with in ``cluster``."""
    client = client_for(cluster, COMPONENT, controller.identity)
    return Context(
        cluster=cluster,
        controller=controller,
        client=client,
        cache=SharedCache(cluster=cluster, component=COMPONENT),
        queue=queue_for(controller.name),
        events=EventRecorder(
            client, component=controller.event_source or controller.identity, cluster=cluster
        ),
        expectations=Expectations(cluster=cluster, controller=controller.name),
        info=info,
    )


def reconcile(controller: Controller, qkey: str) -> None:
    """Run one ``sync`` for a work-queue key (what the Celery task calls)."""
    cluster, key = split_queue_key(qkey)
    info = cluster_info(cluster)
    if info is None:
        return  # the cluster is gone, or its control plane has not started yet
    ctx = context_for(controller, cluster, info=info)
    if not ctx.cache.synced(controller.resources()):
        ctx.requeue_after(key, 1.0)
        return
    try:
        controller.sync(ctx, key)
    finally:
        # Reached unless the worker died: the expectations this sync recorded can be trusted.
        ctx.expectations.seal(key)
