"""Scheduling decisions, kept for people: every node's filter verdicts and every plugin's score.

kube-scheduler keeps none of this once a cycle ends; kubeviz keeps the last attempt of each pod
(as kube-scheduler-simulator does) so the explorer API and the canvas can show why a pod went
where it went, or why it went nowhere.  One JSON document per pod in Redis, expiring after 15
minutes: ``{KUBEVIZ_REDIS_PREFIX}:sched:{cluster}:{namespace}/{name}``.  A summary of each
attempt also goes to the capped stream ``{KUBEVIZ_REDIS_PREFIX}:schedlog:{cluster}``, which the
browser's stream follows.
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
#: Attempts kept on the cluster's decision stream.
MAX_STREAMED = 2_000
#: Nodes named per verdict list and per score table in a streamed summary.
STREAMED_NODES = 10
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


def stream_key(cluster: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:schedlog:{cluster}"


def summary(doc: dict[str, Any]) -> dict[str, Any]:
    """An attempt as the canvas shows it: the verdicts and totals of the first and best nodes.

    Bounded whatever the cluster's size; the explorer API has the whole document.
    """
    filters = doc["filters"]
    rejected = sorted(filters)[:STREAMED_NODES]
    return {
        "pod": doc["pod"],
        "time": doc["time"],
        "attempt": doc["attempt"],
        "selectedNode": doc["selectedNode"],
        "bound": doc["bound"],
        "message": doc["message"],
        "nodesEvaluated": doc["nodesEvaluated"],
        "feasibleNodes": doc["feasibleNodes"],
        "rejected": {node: sorted(filters[node]) for node in rejected},
        "rejectedCount": len(filters),
        "totals": dict(list(doc["totals"].items())[:STREAMED_NODES]),
    }


def record(cluster: str, doc: dict[str, Any], *, client: redis.Redis | None = None) -> None:
    """Keep one attempt as the pod's latest, and announce it on the cluster's decision stream."""
    pod = doc["pod"]
    r = client or default_redis()
    pipe = r.pipeline(transaction=False)
    pipe.set(_key(cluster, pod["namespace"], pod["name"]), orjson.dumps(doc), ex=KEEP_SECONDS)
    pipe.xadd(stream_key(cluster), {"d": orjson.dumps(summary(doc))}, maxlen=MAX_STREAMED, approximate=True)
    pipe.execute()


def latest(
    cluster: str, namespace: str, name: str, *, client: redis.Redis | None = None
) -> dict[str, Any] | None:
    """Return the pod's latest attempt, or None."""
    raw = (client or default_redis()).get(_key(cluster, namespace, name))
    return None if raw is None else orjson.loads(raw)
