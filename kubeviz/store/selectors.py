"""Reads from the store: etcd's Range, current or at a past revision.

Lists are consistent snapshots: the revision a list reports is read by the same SQL
statement as its rows (a scalar subquery), so a watch started from it misses nothing and
replays nothing the list already showed.  Reads at an older revision (pagination with a
``continue`` token) are answered from ``History``, the MVCC log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import OuterRef, Q, Subquery

from kubeviz.store import sql
from kubeviz.store.keys import ClusterNotFound, Compacted, Event, Key
from kubeviz.store.models import Cluster, History


def cluster(name: str) -> Cluster:
    """Return the cluster by name; ClusterNotFound if there is none."""
    try:
        return Cluster.objects.get(name=name)
    except Cluster.DoesNotExist as exc:
        raise ClusterNotFound(name) from exc


def clusters() -> list[Cluster]:
    """Return every cluster, by name."""
    return list(Cluster.objects.all())


def revision(cluster_id: int) -> tuple[int, int]:
    """Return (current revision, compacted revision) of one cluster."""
    row = sql.fetchone("revision", [cluster_id])
    if row is None:
        raise ClusterNotFound(str(cluster_id))
    return int(row[0]), int(row[1])


def get(cluster_id: int, key: Key) -> dict[str, Any] | None:
    """Return the current body of a key, or None."""
    return sql.get(cluster_id, key)


def _after(after: tuple[str, str] | None) -> Q:
    if after is None:
        return Q()
    ns, name = after
    return Q(namespace__gt=ns) | Q(namespace=ns, name__gt=name)


def list_current(
    *,
    cluster_id: int,
    group: str,
    resource: str,
    namespace: str | None = None,
    name: str | None = None,
    after: tuple[str, str] | None = None,
) -> tuple[Iterator[dict[str, Any]], int]:
    """Return (bodies in key order, the snapshot's revision) for a resource.

    The iterator streams one SQL statement; the revision is read by that same statement,
    or just before it when the result is empty (then nothing newer can be missing).
    """
    before, _ = revision(cluster_id)
    rows = sql.list_rows(
        cluster_id=cluster_id, group=group, resource=resource, namespace=namespace, name=name, after=after
    )
    first = next(rows, None)
    if first is None:
        return iter(()), before

    def bodies() -> Iterator[dict[str, Any]]:
        yield first[0]
        for body, _snap in rows:
            yield body

    return bodies(), first[1]


def list_at(
    *,
    cluster_id: int,
    group: str,
    resource: str,
    at: int,
    namespace: str | None = None,
    after: tuple[str, str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Return the bodies of a resource as they were at revision ``at``, in key order."""
    current, compacted = revision(cluster_id)
    if at <= compacted:
        raise Compacted(at, compacted)
    base = History.objects.filter(cluster_id=cluster_id, group=group, resource=resource, revision__lte=at)
    latest = (
        History.objects.filter(
            cluster_id=cluster_id,
            group=group,
            resource=resource,
            namespace=OuterRef("namespace"),
            name=OuterRef("name"),
            revision__lte=at,
        )
        .order_by("-revision")
        .values("revision")[:1]
    )
    if namespace:
        base = base.filter(namespace=namespace)
    rows = (
        base.filter(_after(after))
        .filter(revision=Subquery(latest))
        .exclude(type=History.DELETED)
        .order_by("namespace", "name")
        .values_list("body", flat=True)
    )
    return rows.iterator(chunk_size=500)


def history_after(
    *,
    cluster_id: int,
    after: int,
    upto: int | None = None,
    limit: int = 1000,
    kind: tuple[str, str] | None = None,
) -> list[Event]:
    """Return events with ``after < revision <= upto`` in order; Compacted if ``after`` is too old.

    ``kind`` (group, resource) keeps only that resource's events.
    """
    _, compacted = revision(cluster_id)
    if after < compacted:
        raise Compacted(after, compacted)
    qs = History.objects.filter(cluster_id=cluster_id, revision__gt=after)
    if upto is not None:
        qs = qs.filter(revision__lte=upto)
    if kind is not None:
        qs = qs.filter(group=kind[0], resource=kind[1])
    rows = qs.order_by("revision").values_list(
        "revision", "type", "group", "resource", "namespace", "name", "body"
    )[:limit]
    return [Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in rows]


def previous(cluster_id: int, event: Event) -> dict[str, Any] | None:
    """Return the body a key had just before ``event`` (None if it did not exist or was compacted)."""
    row = (
        History.objects.filter(
            cluster_id=cluster_id,
            group=event.group,
            resource=event.resource,
            namespace=event.namespace,
            name=event.name,
            revision__lt=event.revision,
        )
        .order_by("-revision")
        .values_list("type", "body")
        .first()
    )
    if row is None or row[0] == History.DELETED:
        return None
    return row[1]
