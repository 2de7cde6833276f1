"""Writes to the store: etcd's Txn, with compare-and-swap on ``mod_revision``.

Every write runs in one transaction that (1) takes the next cluster revision, (2) writes
the object row and (3) appends the history row.  Only after commit is the event published
(``bus.publish``), so nothing a watcher is told about can be rolled back, and nothing
acknowledged can be missing from the history.  The caller (the apiserver) owns object
semantics: uid, timestamps, generation.  The store only sets ``metadata.resourceVersion``.
"""

from __future__ import annotations

import time
from typing import Any

from django.db import IntegrityError, transaction

from kubeviz.store import bus, sql
from kubeviz.store.keys import ClusterNotFound, Event, Key, KeyExists, KeyNotFound, RevisionMismatch
from kubeviz.store.models import Cluster, History


def _next_revision(cluster_id: int) -> int:
    """Bump and return the cluster's revision; the row lock serializes writers per cluster."""
    row = sql.fetchone("bump", [cluster_id])
    if row is None:
        raise ClusterNotFound(f"cluster {cluster_id} does not exist")
    return int(row[0])


def _stamp(body: dict[str, Any], revision: int) -> dict[str, Any]:
    meta = dict(body.get("metadata") or {})
    meta["resourceVersion"] = str(revision)
    return {**body, "metadata": meta}


def _log(cluster_id: int, key: Key, kind: str, revision: int, dumped: Any) -> None:
    sql.execute(
        "log",
        [cluster_id, revision, kind, key.group, key.resource, key.namespace, key.name, time.time(), dumped],
    )


def _check(uid: str, mod_revision: int, *, expected_revision: int | None, expected_uid: str | None) -> None:
    if expected_revision is not None and mod_revision != expected_revision:
        raise RevisionMismatch(f"expected revision {expected_revision}, found {mod_revision}")
    if expected_uid is not None and uid != expected_uid:
        raise RevisionMismatch(f"expected uid {expected_uid}, found {uid}")


def create(*, cluster_id: int, key: Key, body: dict[str, Any]) -> dict[str, Any]:
    """Store a new key; KeyExists if it is already there.  Returns the stored body."""
    try:
        with transaction.atomic():
            if sql.current(cluster_id, key) is not None:
                raise KeyExists(str(key))
            revision = _next_revision(cluster_id)
            stored = _stamp(body, revision)
            dumped = sql.dump(stored)
            uid = stored["metadata"].get("uid", "")
            sql.execute("insert", [*sql.key_params(cluster_id, key), uid, revision, revision, dumped])
            _log(cluster_id, key, History.ADDED, revision, dumped)
    except IntegrityError as exc:  # a concurrent create won the unique key
        raise KeyExists(str(key)) from exc
    event = Event(revision, History.ADDED, key.group, key.resource, key.namespace, key.name, stored)
    transaction.on_commit(lambda: bus.publish(cluster_id, [event]))
    return stored


def update(
    *,
    cluster_id: int,
    key: Key,
    body: dict[str, Any],
    expected_revision: int | None = None,
    expected_uid: str | None = None,
) -> dict[str, Any]:
    """Replace a key's body if its ``mod_revision`` (and uid) are as expected."""
    with transaction.atomic():
        row = sql.current(cluster_id, key)
        if row is None:
            raise KeyNotFound(str(key))
        row_id, uid, mod_revision, prev = row
        _check(uid, mod_revision, expected_revision=expected_revision, expected_uid=expected_uid)
        revision = _next_revision(cluster_id)
        stored = _stamp(body, revision)
        dumped = sql.dump(stored)
        sql.execute("update", [dumped, revision, row_id])
        _log(cluster_id, key, History.MODIFIED, revision, dumped)
    event = Event(revision, History.MODIFIED, key.group, key.resource, key.namespace, key.name, stored, prev)
    transaction.on_commit(lambda: bus.publish(cluster_id, [event]))
    return stored


def delete(
    *,
    cluster_id: int,
    key: Key,
    expected_revision: int | None = None,
    expected_uid: str | None = None,
) -> dict[str, Any]:
    """Remove a key; returns its last body, stamped with the deletion's revision."""
    with transaction.atomic():
        row = sql.current(cluster_id, key)
        if row is None:
            raise KeyNotFound(str(key))
        row_id, uid, mod_revision, prev = row
        _check(uid, mod_revision, expected_revision=expected_revision, expected_uid=expected_uid)
        revision = _next_revision(cluster_id)
        stored = _stamp(prev, revision)
        sql.execute("delete", [row_id])
        _log(cluster_id, key, History.DELETED, revision, sql.dump(stored))
    event = Event(revision, History.DELETED, key.group, key.resource, key.namespace, key.name, stored, prev)
    transaction.on_commit(lambda: bus.publish(cluster_id, [event]))
    return stored


def cluster_create(*, name: str, topology: dict[str, Any]) -> Cluster:
    """Create an empty keyspace for a new cluster; KeyExists if the name is taken."""
    try:
        with transaction.atomic():
            return Cluster.objects.create(name=name, topology=topology)
    except IntegrityError as exc:
        raise KeyExists(name) from exc


def cluster_delete(*, name: str) -> None:
    """Drop a cluster with all its objects and history."""
    with transaction.atomic():
        deleted, _ = Cluster.objects.filter(name=name).delete()
    if not deleted:
        raise ClusterNotFound(name)
