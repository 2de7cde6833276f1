"""Celery's side of kube-proxy: every node's rule syncs share the ``kube-proxy`` work queue."""

from kubeviz.client.workqueue import register
from kubeviz.proxy.sync import QUEUE, sync

register(QUEUE, sync)
