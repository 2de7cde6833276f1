"""Starting and stopping a cluster's control-plane state: what ``kubeadm init`` leaves in etcd.

A new cluster gets its own keyspace and the objects kube-apiserver's bootstrap controller
creates (the ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease``
namespaces, and the ``kubernetes`` Service at the first ClusterIP), plus a ``default``
ServiceAccount in each namespace.  Everything is written through the same REST code as
client requests, in one transaction: a cluster either starts complete or not at all.

This module is the apiserver's provisioning interface for ``kubeviz.cluster``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import QueryDict

from kubeviz.apiserver import registry, rest, storage, trace
from kubeviz.apiserver.requestinfo import RequestInfo
from kubeviz.store import selectors, services
from kubeviz.store.keys import ClusterNotFound, KeyExists
from kubeviz.store.models import Cluster

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
USER_AGENT = "kube-apiserver/v1.36.0 (linux/amd64) kubeviz"


class ClusterExists(Exception):
    """A cluster by that name already exists."""


class NoSuchCluster(Exception):
    """No cluster by that name."""


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    uid: str
    created: str
    topology: dict[str, Any]
    revision: int


def _info(c: Cluster) -> ClusterInfo:
    return ClusterInfo(
        c.name, str(c.uid), c.created.strftime("%Y-%m-%dT%H:%M:%SZ"), dict(c.topology), c.revision
    )


def _create(
    cluster: Cluster,
    resource: str,
    body: dict[str, Any],
    *,
    namespace: str = "",
    group: str = "",
    version: str = "v1",
) -> None:
    res = registry.lookup(group, version, resource)
    assert res is not None
    info = RequestInfo(
        True, "", verb="create", group=group, version=version, resource=resource, namespace=namespace
    )
    call = rest.Call(
        cluster=cluster, info=info, resource=res, params=QueryDict(), user_agent=USER_AGENT, body=body
    )
    rest.create(call)


def create_cluster(
    *, name: str, topology: dict[str, Any], objects: Sequence[tuple[str, str, str, str, dict[str, Any]]] = ()
) -> ClusterInfo:
    """Create a cluster and its bootstrap objects; ClusterExists if the name is taken.

    ``objects`` are more objects to create in the same transaction, after the bootstrap ones,
    as ``(group, version, resource, namespace, body)``: the add-ons ``kubeadm init`` applies.
    """
    try:
        with transaction.atomic():
            cluster = services.cluster_create(name=name, topology=topology)
            for ns in SYSTEM_NAMESPACES:
                _create(cluster, "namespaces", {"metadata": {"name": ns}})
            for ns in SYSTEM_NAMESPACES:
                _create(cluster, "serviceaccounts", {"metadata": {"name": "default"}}, namespace=ns)
            _create(
                cluster,
                "services",
                {
                    "metadata": {
                        "name": "kubernetes",
                        "labels": {"component": "apiserver", "provider": "kubernetes"},
                    },
                    "spec": {
                        "clusterIP": "10.96.0.1",
                        "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                    },
                },
                namespace="default",
            )
            for group, version, resource, namespace, body in objects:
                _create(cluster, resource, body, namespace=namespace, group=group, version=version)
    except KeyExists as exc:
        raise ClusterExists(name) from exc
    cluster.refresh_from_db()
    return _info(cluster)


def list_objects(
    name: str, *, group: str, version: str, resource: str, namespace: str = ""
) -> list[dict[str, Any]]:
    """Return the current objects of one resource (of one namespace, or all) in a cluster."""
    res = registry.lookup(group, version, resource)
    assert res is not None, f"{group}/{version}/{resource} is not served"
    try:
        cluster = selectors.cluster(name)
    except ClusterNotFound as exc:
        raise NoSuchCluster(name) from exc
    items, _ = storage.list_objects(cluster, res, namespace=namespace)
    return list(items)


def get_cluster(name: str) -> ClusterInfo:
    try:
        return _info(selectors.cluster(name))
    except ClusterNotFound as exc:
        raise NoSuchCluster(name) from exc


def list_clusters() -> list[ClusterInfo]:
    return [_info(c) for c in selectors.clusters()]


def delete_cluster(name: str) -> None:
    try:
        services.cluster_delete(name=name)
    except ClusterNotFound as exc:
        raise NoSuchCluster(name) from exc


def recent_requests(name: str, *, count: int = 100) -> list[dict[str, str]]:
    """Return the newest API requests made to a cluster, newest first."""
    try:
        cluster = selectors.cluster(name)
    except ClusterNotFound as exc:
        raise NoSuchCluster(name) from exc
    return trace.recent(cluster.pk, count)
