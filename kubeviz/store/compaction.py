"""etcd compaction: forget history older than the watch window.

kube-apiserver asks etcd to compact every five minutes; a watch or a paginated list from
a revision older than the compaction point then fails with 410 Expired and the client
relists.  Compaction keeps the newest row of every key that still exists, so snapshots
at any revision after the compaction point stay readable from ``History``.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from kubeviz.store.models import Cluster, History


def compact(*, cluster_id: int, window_seconds: float, now: float | None = None) -> int:
    """Compact history written more than ``window_seconds`` ago; return the new compaction point."""
    now = time.time() if now is None else now
    cutoff = now - window_seconds
    point = (
        History.objects.filter(cluster_id=cluster_id, written_at__lt=cutoff)
        .order_by("-revision")
        .values_list("revision", flat=True)
        .first()
    )
    if point is None:
        return Cluster.objects.filter(pk=cluster_id).values_list("compacted", flat=True).first() or 0
    newer = History.objects.filter(
        cluster_id=cluster_id,
        group=OuterRef("group"),
        resource=OuterRef("resource"),
        namespace=OuterRef("namespace"),
        name=OuterRef("name"),
        revision__gt=OuterRef("revision"),
        revision__lte=point,
    )
    with transaction.atomic():
        stale = History.objects.filter(cluster_id=cluster_id, revision__lte=point).filter(
            Q(type=History.DELETED) | Exists(newer)
        )
        stale.delete()
        Cluster.objects.filter(pk=cluster_id, compacted__lt=point).update(compacted=point)
    return point


def compact_all(*, window_seconds: float) -> dict[str, int]:
    """Compact every cluster; return the compaction point by cluster name."""
    return {
        c.name: compact(cluster_id=c.pk, window_seconds=window_seconds)
        for c in Cluster.objects.only("pk", "name")
    }
