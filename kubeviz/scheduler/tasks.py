"""Celery's side of kube-scheduler: the per-cluster scheduling key, and the periodic flush."""

from __future__ import annotations

from django.conf import settings

from kubeviz.celery import app
from kubeviz.client import clusterinfo
from kubeviz.client.workqueue import register
from kubeviz.scheduler.loop import QUEUE_NAME, SCHEDULE_KEY, schedule, wake_queue
from kubeviz.scheduler.queue import SchedulingQueue

register(QUEUE_NAME, schedule, celery_queue=settings.KUBEVIZ_SCHEDULER_QUEUE)


@app.task(name="kubeviz.scheduler.tasks.flush", ignore_result=True)
def flush() -> int:
    """Move pods parked as unschedulable for too long, and pods lost in flight, back into play."""
    moved = 0
    for info in clusterinfo.published():
        queue = SchedulingQueue(info.name, speed=info.speed)
        n = queue.flush_unschedulable_leftover() + queue.requeue_lost()
        if n:
            wake_queue().add(f"{info.name}|{SCHEDULE_KEY}")
        moved += n
    return moved
