"""Celery's side of the Network Daemon: every node's route syncs share the ``netd`` work queue."""

from kubeviz.client.workqueue import register
from kubeviz.netd.routes import QUEUE, sync

register(QUEUE, sync)
