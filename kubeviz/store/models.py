"""The store's tables: etcd's keyspace and its MVCC history, on SQL.

As k3s-io/kine does, every write appends one row to ``History`` (the watch log) and
updates the current row in ``Object`` in the same transaction; the cluster's ``revision``
counter is etcd's header revision and is bumped by that transaction too.  ``History``
keeps, after compaction, the latest row of every live key, so a consistent snapshot at
any revision newer than ``Cluster.compacted`` can be read back from it.
"""

from __future__ import annotations

import uuid

from django.db import models


class Cluster(models.Model):
    """One simulated cluster: its own etcd keyspace, revision counter and topology."""

    name = models.CharField(max_length=63, unique=True)
    uid = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    topology = models.JSONField(default=dict)
    revision = models.BigIntegerField(default=1)
    compacted = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Object(models.Model):
    """The current version of one key: (group, resource, namespace, name)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="stored_objects")
    group = models.CharField(max_length=253, blank=True)
    resource = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    uid = models.CharField(max_length=36)
    create_revision = models.BigIntegerField()
    mod_revision = models.BigIntegerField()
    body = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "group", "resource", "namespace", "name"], name="store_object_key"
            )
        ]


class History(models.Model):
    """One write: the watch log.  ``revision`` is unique and strictly increasing per cluster."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"
    TYPES = [(t, t) for t in (ADDED, MODIFIED, DELETED)]

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="history", db_index=False)
    revision = models.BigIntegerField()
    type = models.CharField(max_length=8, choices=TYPES)
    group = models.CharField(max_length=253, blank=True)
    resource = models.CharField(max_length=63)
    namespace = models.CharField(max_length=63, blank=True)
    name = models.CharField(max_length=253)
    written_at = models.FloatField()
    body = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "revision"], name="store_history_revision")]
        indexes = [
            models.Index(
                fields=["cluster", "group", "resource", "namespace", "name", "revision"],
                name="store_history_key",
            ),
            models.Index(fields=["cluster", "written_at"], name="store_history_age"),
        ]
