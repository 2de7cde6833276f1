"""Periodic work of kube-apiserver, on Celery beat."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from kubeviz.store.compaction import compact_all


@shared_task(name="kubeviz.apiserver.tasks.compact", ignore_result=True)
def compact() -> dict[str, int]:
    """Ask the store to forget history older than the watch window (etcd compaction)."""
    return compact_all(window_seconds=settings.KUBEVIZ_COMPACTION_WINDOW)
