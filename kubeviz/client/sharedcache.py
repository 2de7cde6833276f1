"""The shared informer cache: a component's informer caches, mirrored into Redis for its workers.

In client-go one process holds the informers and runs the workers, so ``sync(key)`` reads an
in-memory ``Lister``.  kubeviz splits that process in two (DESIGN.md rule 4): the control-plane
process holds the informers, and short Celery tasks on any worker run ``sync``.  This module
is the bridge.  The informer process writes every object it caches into Redis
(``CacheWriter``), and a task reads it back through a ``SharedLister`` with the same
``get``/``list`` shape as ``lister.Lister``.  Reads never reach the apiserver, as in upstream.

Contract
--------
* One cache per cluster and component (``kube-controller-manager``, ``kube-scheduler``), so
  each component sees exactly what its own watches delivered.
* The informer process writes an object before it enqueues keys for it, so a ``sync`` that
  an event caused always finds that event's state (or a newer one) in the cache.
* The cache may lag the apiserver, and a ``sync`` that finds nothing treats the object as
  gone.  Controllers that write many objects use expectations, as upstream does, so they do
  not act again before their own writes have come back through the watch.
* Two indexes are kept beside the objects: uid -> object, and owner uid -> dependents.  The
  garbage collector reads its dependency graph from them.
* ``synced(resource)`` is true once the resource's first list has been written.  A component
  acts only on synced caches.

Redis layout under ``{KUBEVIZ_REDIS_PREFIX}:cache:{cluster}:{component}:``: ``{res}:ns`` (set
of namespaces holding objects), ``{res}:o:{namespace}`` (hash, name -> JSON), ``{res}:synced``
(the resourceVersion of the first list), ``uid`` (hash, uid -> ``res|namespace|name``) and
``owner:{uid}`` (set of ``res|namespace|name``).  ``res`` is ``plural`` for core resources
and ``plural.group`` otherwise, as kubectl spells them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import redis
from django.conf import settings

from kubeviz.client.labels import Selector, as_selector
from kubeviz.client.rest import BUILTIN, Resource

Obj = dict[str, Any]


def resource_key(resource: Resource) -> str:
    """Name a resource as kubectl does: ``pods``, ``deployments.apps``."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


_BY_KEY = {resource_key(r): r for r in BUILTIN}


def resource_by_key(key: str) -> Resource:
    """Return the built-in resource with this ``plural[.group]`` name."""
    return _BY_KEY[key]


@dataclass(frozen=True)
class Ref:
    """Points at one cached object: its resource, namespace and name."""

    resource: str
    namespace: str
    name: str

    def encode(self) -> str:
        return f"{self.resource}|{self.namespace}|{self.name}"

    @classmethod
    def decode(cls, text: str | bytes) -> Ref:
        if isinstance(text, bytes):
            text = text.decode()
        resource, namespace, name = text.split("|", 2)
        return cls(resource, namespace, name)


@cache
def _redis_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)


def default_redis() -> redis.Redis:
    """Return the Redis client the cache uses when none is given."""
    return _redis_for(settings.REDIS_URL)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _owner_uids(obj: Mapping[str, Any] | None) -> set[str]:
    if not obj:
        return set()
    return {ref["uid"] for ref in _meta(obj).get("ownerReferences") or [] if ref.get("uid")}


class _Layout:
    def __init__(self, *, cluster: str, component: str) -> None:
        self.base = f"{settings.KUBEVIZ_REDIS_PREFIX}:cache:{cluster}:{component}"

    def namespaces(self, res: str) -> str:
        return f"{self.base}:{res}:ns"

    def objects(self, res: str, namespace: str) -> str:
        return f"{self.base}:{res}:o:{namespace}"

    def synced(self, res: str) -> str:
        return f"{self.base}:{res}:synced"

    @property
    def uids(self) -> str:
        return f"{self.base}:uid"

    def owner(self, uid: str) -> str:
        return f"{self.base}:owner:{uid}"


class CacheWriter:
    """Writes one component's informer caches into Redis (used by the informer process)."""

    def __init__(self, *, cluster: str, component: str, client: redis.Redis | None = None) -> None:
        self.cluster = cluster
        self.component = component
        self._redis = client if client is not None else default_redis()
        self._keys = _Layout(cluster=cluster, component=component)

    def reset(self, resource: Resource) -> None:
        """Forget every cached object of a resource (before its informer lists afresh)."""
        res = resource_key(resource)
        namespaces = [ns.decode() for ns in self._redis.smembers(self._keys.namespaces(res))]
        pipe = self._redis.pipeline()
        for ns in namespaces:
            for raw in self._redis.hvals(self._keys.objects(res, ns)):
                obj = orjson.loads(raw)
                self._unindex(pipe, Ref(res, ns, _meta(obj).get("name", "")), obj)
            pipe.delete(self._keys.objects(res, ns))
        pipe.delete(self._keys.namespaces(res), self._keys.synced(res))
        pipe.execute()

    def put(self, resource: Resource, obj: Obj, old: Obj | None = None) -> None:
        """Store an added or updated object and move its index entries."""
        res = resource_key(resource)
        meta = _meta(obj)
        ref = Ref(res, meta.get("namespace") or "", meta["name"])
        pipe = self._redis.pipeline()
        if old is not None:
            for uid in _owner_uids(old) - _owner_uids(obj):
                pipe.srem(self._keys.owner(uid), ref.encode())
        pipe.hset(self._keys.objects(res, ref.namespace), ref.name, orjson.dumps(obj))
        pipe.sadd(self._keys.namespaces(res), ref.namespace)
        if meta.get("uid"):
            pipe.hset(self._keys.uids, meta["uid"], ref.encode())
        for uid in _owner_uids(obj):
            pipe.sadd(self._keys.owner(uid), ref.encode())
        pipe.execute()

    def remove(self, resource: Resource, obj: Obj) -> None:
        """Drop a deleted object and its index entries."""
        res = resource_key(resource)
        meta = _meta(obj)
        ref = Ref(res, meta.get("namespace") or "", meta["name"])
        pipe = self._redis.pipeline()
        pipe.hdel(self._keys.objects(res, ref.namespace), ref.name)
        self._unindex(pipe, ref, obj)
        pipe.execute()

    def mark_synced(self, resource: Resource, resource_version: str) -> None:
        """Record that the resource's first list has been written."""
        self._redis.set(self._keys.synced(resource_key(resource)), resource_version or "0")

    def _unindex(self, pipe: Any, ref: Ref, obj: Obj) -> None:
        uid = _meta(obj).get("uid")
        if uid:
            pipe.hdel(self._keys.uids, uid)
        for owner in _owner_uids(obj):
            pipe.srem(self._keys.owner(owner), ref.encode())


class SharedLister:
    """Reads one resource from a component's shared cache (``lister.Lister``'s shape)."""

    def __init__(self, cache: SharedCache, resource: Resource) -> None:
        self.cache = cache
        self.resource = resource
        self.res = resource_key(resource)

    def get(self, namespace: str | None, name: str) -> Obj | None:
        """Return the cached object, or None."""
        raw = self.cache.redis.hget(self.cache.keys.objects(self.res, namespace or ""), name)
        return None if raw is None else orjson.loads(raw)

    def get_by_key(self, key: str) -> Obj | None:
        """Return the cached object with a ``namespace/name`` key, or None."""
        namespace, _, name = key.rpartition("/")
        return self.get(namespace, name)

    def list(
        self,
        namespace: str | None = None,
        selector: Selector | str | Mapping[str, Any] | None = None,
    ) -> list[Obj]:
        """Return the cached objects (of one namespace, or all) matching ``selector``, by key."""
        match = as_selector(selector)
        if namespace is None:
            namespaces = sorted(
                ns.decode() for ns in self.cache.redis.smembers(self.cache.keys.namespaces(self.res))
            )
        else:
            namespaces = [namespace]
        pipe = self.cache.redis.pipeline()
        for ns in namespaces:
            pipe.hgetall(self.cache.keys.objects(self.res, ns))
        out: list[Obj] = []
        for found in pipe.execute():
            for _, raw in sorted(found.items()):
                obj = orjson.loads(raw)
                if match.empty() or match.matches_object(obj):
                    out.append(obj)
        return out

    def synced(self) -> bool:
        """Tell whether this resource's first list has been written."""
        return bool(self.cache.redis.exists(self.cache.keys.synced(self.res)))


class SharedCache:
    """One component's shared cache in one cluster, as its workers read it."""

    def __init__(self, *, cluster: str, component: str, client: redis.Redis | None = None) -> None:
        self.cluster = cluster
        self.component = component
        self.redis = client if client is not None else default_redis()
        self.keys = _Layout(cluster=cluster, component=component)

    def lister(self, resource: Resource) -> SharedLister:
        """Return a lister over one resource."""
        return SharedLister(self, resource)

    def synced(self, resources: Iterable[Resource]) -> bool:
        """Tell whether every one of these resources has been listed."""
        keys = [self.keys.synced(resource_key(r)) for r in resources]
        return not keys or self.redis.exists(*keys) == len(keys)

    def ref_of(self, uid: str) -> Ref | None:
        """Return where the object with this uid is cached, or None."""
        raw = self.redis.hget(self.keys.uids, uid)
        return None if raw is None else Ref.decode(raw)

    def dependents(self, uid: str) -> list[Ref]:
        """Return the cached objects that name ``uid`` among their ownerReferences."""
        return sorted(
            (Ref.decode(raw) for raw in self.redis.smembers(self.keys.owner(uid))),
            key=lambda r: (r.resource, r.namespace, r.name),
        )

    def fetch(self, ref: Ref) -> Obj | None:
        """Return the object a ``Ref`` points at, or None if it is no longer cached."""
        raw = self.redis.hget(self.keys.objects(ref.resource, ref.namespace), ref.name)
        return None if raw is None else orjson.loads(raw)

    def clear(self) -> None:
        """Delete everything this cache holds (when its cluster is deleted)."""
        cursor = 0
        while True:
            cursor, keys = self.redis.scan(cursor, match=f"{self.keys.base}:*", count=500)
            if keys:
                self.redis.delete(*keys)
            if cursor == 0:
                return
