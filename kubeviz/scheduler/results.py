"""Scheduling decisions, kept for people: every node's filter verdicts and every plugin's score.

kube-scheduler keeps none of this once a cycle ends; kubeviz keeps the last attempt of each pod
(as kube-scheduler-simulator does) so the explorer API and the canvas can show why a pod went
where it went, or why it went nowhere.  One JSON document per pod in Redis, expiring after 15
minutes: ``{KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:{namespace}/{name}``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
import redis
from django.conf import settings

from kubeviz.client.sharedcache import default_redis
from kubeviz.scheduler.framework.runner import Result

KEEP_SECONDS = 900
#: Per-plugin scores are kept for this many of the best nodes (with their totals).
SCORED_NODES_KEPT = 50


def decision(
    result: Result, *, pod: dict[str, Any], at: datetime, message: str, attempt: int, bound: bool
) -> dict[str, Any]:
    """Return the JSON form of one scheduling attempt, compact enough for 1,000-node clusters.

    ``filters`` lists only what failed: for each node that did not fit, each plugin that said
    no.  A filtered node absent from it passed every filter.  ``scores`` keeps ``[raw,
    normalized]`` per plugin for the best ``SCORED_NODES_KEPT`` nodes; ``scoreWeights`` holds
    each plugin's weight once.
    """
    meta = pod.get("metadata") or {}
    best = sorted(result.totals, key=lambda name: (-result.totals[name], name))[:SCORED_NODES_KEPT]
    weights = {plugin: s.weight for per in result.scores.values() for plugin, s in per.items()}
    return {
        "pod": {"namespace": meta.get("namespace"), "name": meta.get("name"), "uid": meta.get("uid")},
        "time": at.isoformat().replace("+00:00", "Z"),
        "attempt": attempt,
        "selectedNode": result.selected,
        "bound": bound,
        "message": message,
        "nodesEvaluated": result.processed,
        "feasibleNodes": result.feasible,
        "filters": {
            node: {
                plugin: {"code": str(s.code), "reasons": list(s.reasons)}
                for plugin, s in verdicts.items()
                if not s.is_success()
            }
            for node, verdicts in result.verdicts.items()
            if node in result.decisive
        },
        "scoreWeights": weights,
        "scores": {
            node: {plugin: [s.raw, s.normalized] for plugin, s in result.scores[node].items()}
            for node in best
        },
        "skippedScorePlugins": result.skipped_scores,
        "totals": {node: result.totals[node] for node in best},
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
