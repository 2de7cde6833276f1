"""The apiserver's view of the store: keys from resources, store errors as API errors.

This is the only module through which the apiserver's request handlers reach
``kubeviz.store``; it mirrors ``k8s.io/apiserver/pkg/storage/etcd3`` (key layout,
``GuaranteedUpdate`` retries, conflict mapping).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator
from typing import Any

from kubeviz.apiserver import errors
from kubeviz.apiserver.registry import Resource
from kubeviz.store import selectors, services
from kubeviz.store.keys import Compacted, Key, KeyExists, KeyNotFound, RevisionMismatch
from kubeviz.store.models import Cluster

Obj = dict[str, Any]

UPDATE_RETRIES = 8
CLUSTER_CACHE_SECONDS = 2.0

_clusters: dict[str, tuple[float, Cluster]] = {}


def cluster(name: str) -> Cluster:
    """Return a cluster by name, remembered for a moment: every request starts here.

    A cluster deleted meanwhile is caught by the store itself (its revision row is gone),
    which answers ClusterNotFound; the views turn that into 404.
    """
    now = time.monotonic()
    hit = _clusters.get(name)
    if hit is not None and now - hit[0] < CLUSTER_CACHE_SECONDS:
        return hit[1]
    found = selectors.cluster(name)
    if len(_clusters) > 1000:
        _clusters.clear()
    _clusters[name] = (now, found)
    return found


def key(resource: Resource, namespace: str, name: str) -> Key:
    return Key(resource.group, resource.resource, namespace if resource.namespaced else "", name)


def forget_cluster(name: str) -> None:
    _clusters.pop(name, None)


def get(cluster: Cluster, resource: Resource, namespace: str, name: str) -> Obj:
    """Return the stored object or raise 404."""
    body = selectors.get(cluster.pk, key(resource, namespace, name))
    if body is None:
        raise errors.not_found(resource.resource, name, resource.group)
    return body


def get_or_none(cluster: Cluster, resource: Resource, namespace: str, name: str) -> Obj | None:
    return selectors.get(cluster.pk, key(resource, namespace, name))


def create(cluster: Cluster, resource: Resource, obj: Obj) -> Obj:
    meta = obj["metadata"]
    try:
        return services.create(
            cluster_id=cluster.pk, key=key(resource, meta.get("namespace", ""), meta["name"]), body=obj
        )
    except KeyExists as exc:
        raise errors.already_exists(resource.resource, meta["name"], resource.group) from exc


def update(cluster: Cluster, resource: Resource, obj: Obj, *, expected_revision: int | None) -> Obj:
    meta = obj["metadata"]
    k = key(resource, meta.get("namespace", ""), meta["name"])
    try:
        return services.update(cluster_id=cluster.pk, key=k, body=obj, expected_revision=expected_revision)
    except KeyNotFound as exc:
        raise errors.not_found(resource.resource, meta["name"], resource.group) from exc
    except RevisionMismatch as exc:
        raise errors.conflict(resource.resource, meta["name"], resource.group) from exc


def delete(cluster: Cluster, resource: Resource, obj: Obj, *, expected_revision: int | None = None) -> Obj:
    meta = obj["metadata"]
    k = key(resource, meta.get("namespace", ""), meta["name"])
    try:
        return services.delete(cluster_id=cluster.pk, key=k, expected_revision=expected_revision)
    except KeyNotFound as exc:
        raise errors.not_found(resource.resource, meta["name"], resource.group) from exc
    except RevisionMismatch as exc:
        raise errors.conflict(resource.resource, meta["name"], resource.group) from exc


def guaranteed_update(
    cluster: Cluster,
    resource: Resource,
    namespace: str,
    name: str,
    mutate: Callable[[Obj], Obj | None],
) -> tuple[Obj, Obj | None]:
    """Read, mutate and compare-and-swap until it sticks; return (old, new).

    ``mutate`` gets a fresh copy of the current object each try and returns the new
    object, or None to leave it unchanged.  It may raise an APIError to stop.
    """
    for _ in range(UPDATE_RETRIES):
        current = get(cluster, resource, namespace, name)
        revision = int(current["metadata"]["resourceVersion"])
        new = mutate(copy.deepcopy(current))
        if new is None:
            return current, None
        try:
            return current, services.update(
                cluster_id=cluster.pk,
                key=key(resource, namespace, name),
                body=new,
                expected_revision=revision,
            )
        except RevisionMismatch:
            continue
        except KeyNotFound as exc:
            raise errors.not_found(resource.resource, name, resource.group) from exc
    raise errors.conflict(resource.resource, name, resource.group, "too many concurrent updates; try again")


def list_objects(
    cluster: Cluster,
    resource: Resource,
    *,
    namespace: str = "",
    name: str = "",
    after: tuple[str, str] | None = None,
    at: int | None = None,
) -> tuple[Iterator[Obj], int]:
    """Return (objects in key order, revision) — current, or as of revision ``at``."""
    ns = namespace if resource.namespaced else ""
    if at is not None:
        try:
            items = selectors.list_at(
                cluster_id=cluster.pk,
                group=resource.group,
                resource=resource.resource,
                at=at,
                namespace=ns or None,
                after=after,
            )
        except Compacted as exc:
            raise errors.expired(
                "The provided continue parameter is too old to display a consistent list result. "
                "You can start a new list without the continue parameter."
            ) from exc
        return items, at
    return selectors.list_current(
        cluster_id=cluster.pk,
        group=resource.group,
        resource=resource.resource,
        namespace=ns or None,
        name=name or None,
        after=after,
    )


def revision(cluster: Cluster) -> tuple[int, int]:
    return selectors.revision(cluster.pk)
