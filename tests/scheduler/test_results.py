"""What a scheduling attempt tells people: the whole document, and the bounded stream summary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from kubeviz.client.sharedcache import default_redis
from kubeviz.scheduler import results
from kubeviz.scheduler.framework.runner import schedule_one
from kubeviz.scheduler.framework.types import build_node_infos
from kubeviz.scheduler.plugins.registry import DEFAULT_REGISTRY
from tests.scheduler.builders import node, pod


def attempt(nodes: int, small: int) -> dict:
    """A pod asking 2 CPUs on ``nodes`` nodes, of which ``small`` have only 1."""
    infos = build_node_infos([node(f"n{i:03d}", cpu="1" if i < small else "4") for i in range(nodes)], [])
    p = pod("web", cpu="2")
    p["metadata"]["uid"] = "u1"
    result = schedule_one(p, infos, registry=DEFAULT_REGISTRY)
    return results.decision(result, pod=p, at=datetime.now(UTC), message="m", attempt=1, bound=True)


def test_the_summary_names_the_verdicts_and_the_best_totals_within_its_bound() -> None:
    doc = attempt(nodes=40, small=25)
    s = results.summary(doc)
    assert s["selectedNode"] == doc["selectedNode"] and s["selectedNode"] >= "n025"
    assert s["rejectedCount"] == 25
    assert len(s["rejected"]) == results.STREAMED_NODES
    assert s["rejected"]["n000"] == ["NodeResourcesFit"]
    assert len(s["totals"]) == results.STREAMED_NODES
    assert list(s["totals"]) == list(doc["totals"])[: results.STREAMED_NODES]  # best first


def test_recording_keeps_the_document_and_streams_the_summary() -> None:
    cluster = f"r-{uuid.uuid4().hex[:8]}"
    doc = attempt(nodes=3, small=1)
    results.record(cluster, doc)
    assert results.latest(cluster, "default", "web") == orjson.loads(orjson.dumps(doc))
    entries = default_redis().xrange(results.stream_key(cluster))
    assert len(entries) == 1
    assert orjson.loads(entries[0][1][b"d"]) == results.summary(doc)
