"""Scheduling decisions, kept for people: every node's filter verdicts and every plugin's score.

kube-scheduler keeps none of this once a cycle ends; kubeviz keeps the last attempt of each pod
(as kube-scheduler-simulator does) so the explorer API and the canvas can show why a pod went
where it went, or why it went nowhere.  One JSON document per pod in Redis, expiring after an
hour: ``{KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:{namespace}/{name}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis
from kubeviz.scheduler.framework.runner import Result

KEEP_SECONDS = 3600


def decision(
    result: Result, *, pod: dict[str, Any], at: datetime, message: str, attempt: int, bound: bool
) -> dict[str, Any]:
    """Return the JSON form of one scheduling attempt."""
    meta = pod.get("metadata") or {}
    return {
        "pod": {"namespace": meta.get("namespace"), "name": meta.get("name"), "uid": meta.get("uid")},
        "time": at.isoformat().replace("+00:00", "Z"),
        "attempt": attempt,
        "selectedNode": result.selected,
        "bound": bound,
        "message": message,
        "feasibleNodes": result.feasible,
        "filters": {
            node: {
                plugin: {"code": str(s.code), "reasons": list(s.reasons)} for plugin, s in verdicts.items()
            }
            for node, verdicts in result.verdicts.items()
        },
        "scores": {
            node: {
                plugin: {"raw": s.raw, "normalized": s.normalized, "weight": s.weight, "weighted": s.weighted}
                for plugin, s in per.items()
            }
            for node, per in result.scores.items()
        },
        "skippedScorePlugins": result.skipped_scores,
        "totals": result.totals,
    }


def _key(cluster: str, namespace: str, name: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:{namespace}/{name}"


def record(cluster: str, doc: dict[str, Any], *, client: redis.Redis | None = None) -> None:
    """Keep one attempt as the pod's latest."""
    pod = doc["pod"]
    (client or default_redis()).set(
        _key(cluster, pod["namespace"], pod["name"]), orjson.dumps(doc), ex=KEEP_SECONDS
    )


def latest(
    cluster: str, namespace: str, name: str, *, client: redis.Redis | None = None
) -> dict[str, Any] | None:
    """Return the pod's latest attempt, or None."""
    raw = (client or default_redis()).get(_key(cluster, namespace, name))
    return None if raw is None else orjson.loads(raw)
