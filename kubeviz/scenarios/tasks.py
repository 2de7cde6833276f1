"""Celery tasks of scenarios: thin, as every task here; the work is in ``runner`` and ``services``.

* ``advance`` (beat, every second): run the due steps of every launched cluster.
* ``reap`` (beat, every 30 s): remove launched clusters nobody has used for
  ``KUBEVIZ_IDLE_MINUTES``, and forget launches and links whose cluster is gone.
"""

from __future__ import annotations

import logging
import time

import httpx
from celery import shared_task
from django.conf import settings

from kubeviz.scenarios import runner, services
from kubeviz.scenarios.models import Launch, LiveLink
from kubeviz.web import activity

log = logging.getLogger(__name__)


@shared_task(name="kubeviz.scenarios.tasks.advance", ignore_result=True)
def advance() -> int:
    """Run the due steps of every launch that still has steps to run."""
    ran = 0
    now = time.time()
    for launch in Launch.objects.filter(paused=False, due__lte=now).select_related("scenario"):
        ran += runner.advance(launch, now=now)
    return ran


def idle_since(launch: Launch) -> float:
    """Return when a person last used a launched cluster (its launch counts as a use)."""
    return max(launch.started, activity.last_seen(launch.cluster) or 0.0)


@shared_task(name="kubeviz.scenarios.tasks.reap", ignore_result=True)
def reap() -> list[str]:
    """Remove idle launched clusters; forget launches and links of clusters that are gone."""
    now = time.time()
    limit = settings.KUBEVIZ_IDLE_MINUTES * 60
    removed = []
    for launch in Launch.objects.all():
        if now - idle_since(launch) > limit:
            try:
                services.cluster_delete(launch.cluster)
            except (services.Refused, httpx.HTTPError) as exc:
                log.warning("idle cluster %s not removed: %s", launch.cluster, exc)
                continue
            removed.append(launch.cluster)
            log.info(
                "removed %s: idle for more than %s minutes", launch.cluster, settings.KUBEVIZ_IDLE_MINUTES
            )
    with services.explorer() as http:
        try:
            live = {c["name"] for c in http.get("/api/clusters").json()["items"]}
        except (httpx.HTTPError, KeyError, ValueError):
            return removed
    for cluster in set(LiveLink.objects.values_list("cluster", flat=True)) | set(
        Launch.objects.values_list("cluster", flat=True)
    ):
        if cluster not in live:
            services.forget_cluster(cluster)
    return removed
