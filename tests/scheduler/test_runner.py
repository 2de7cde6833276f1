"""The one-pod cycle: the chosen node, the kept verdicts and scores, the FailedScheduling text."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.scheduler.framework.runner import fit_error_message, num_feasible_nodes_to_find, schedule_one
from kubeviz.scheduler.framework.types import NodeInfo, build_node_infos
from kubeviz.scheduler.plugins.registry import DEFAULT_REGISTRY
from tests.scheduler.builders import node, pod

CP = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def _cluster(*, worker_cpu: str, busy: bool = False) -> list[NodeInfo]:
    nodes = [node("cp", cpu="16", taints=[CP])] + [node(f"w{i}", cpu=worker_cpu) for i in (1, 2, 3)]
    pods = [
        {**pod(f"e{i}", cpu="3"), "spec": {**pod(cpu="3")["spec"], "nodeName": f"w{i}"}} for i in (1, 2, 3)
    ]
    return build_node_infos(nodes, pods if busy else [])


def test_picks_the_emptiest_node_and_keeps_every_score() -> None:
    infos = [
        NodeInfo.build(node("a")),
        NodeInfo.build(node("b", cpu="8")),
        NodeInfo.build(node("c", cpu="1")),
    ]
    result = schedule_one(pod(cpu="2", memory="2Gi"), infos, registry=DEFAULT_REGISTRY)
    assert result.selected == "b"
    assert result.feasible == ["a", "b"]
    assert result.decisive["c"].plugin == "NodeResourcesFit"
    assert set(result.verdicts["c"]) == set(DEFAULT_REGISTRY.filters)
    assert result.scores["b"]["NodeResourcesFit"].normalized == 75  # cpu 6/8 and memory 6/8 free
    assert result.totals["b"] == sum(s.weighted for s in result.scores["b"].values())
    assert result.skipped_scores == ["NodeAffinity", "PodTopologySpread"]


def test_breaks_ties_by_node_name() -> None:
    infos = [NodeInfo.build(node("b")), NodeInfo.build(node("a"))]
    result = schedule_one(pod(cpu="1"), infos, registry=DEFAULT_REGISTRY)
    assert result.totals["a"] == result.totals["b"]
    assert result.selected == "a"


def test_one_feasible_node_is_not_scored() -> None:
    result = schedule_one(pod(), [NodeInfo.build(node("only"))], registry=DEFAULT_REGISTRY)
    assert (result.selected, result.scores) == ("only", {})


@pytest.mark.parametrize(
    ("worker_cpu", "busy", "spec", "message"),
    [
        (
            "1",
            False,
            {},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
            " 3 Insufficient cpu. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling..",
        ),
        (
            "4",
            True,
            {},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
            " 3 Insufficient cpu. preemption: 0/4 nodes are available: 1 Preemption is not helpful for scheduling,"
            " 3 No preemption victims found for incoming pod..",
        ),
        (
            "4",
            True,
            {"priority": 1000},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
            " 3 Insufficient cpu.",
        ),
        (
            "4",
            True,
            {"priority": 1000, "preemptionPolicy": "Never"},
            "0/4 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: },"
            " 3 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never..",
        ),
    ],
    ids=[
        "request above allocatable",
        "no lower-priority pods",
        "preemption would help",
        "preemptionPolicy Never",
    ],
)
def test_failed_scheduling_message(worker_cpu: str, busy: bool, spec: dict[str, Any], message: str) -> None:
    incoming = pod(cpu="2")
    incoming["spec"].update(spec)
    infos = _cluster(worker_cpu=worker_cpu, busy=busy)
    result = schedule_one(incoming, infos, registry=DEFAULT_REGISTRY)
    assert result.selected is None
    assert fit_error_message(result, len(infos)) == message


def test_preemption_candidates_are_reported() -> None:
    incoming = pod(cpu="2")
    incoming["spec"]["priority"] = 1000
    result = schedule_one(incoming, _cluster(worker_cpu="4", busy=True), registry=DEFAULT_REGISTRY)
    assert result.preemption_candidates == ["w1", "w2", "w3"]


@pytest.mark.parametrize(
    ("total", "want"), [(50, 50), (99, 99), (100, 100), (500, 230), (1000, 420), (5000, 500), (10000, 500)]
)
def test_number_of_feasible_nodes_to_find_follows_upstream(total: int, want: int) -> None:
    assert num_feasible_nodes_to_find(total) == want


def test_large_clusters_stop_filtering_once_enough_nodes_fit_and_rotate_the_start() -> None:
    infos = [NodeInfo.build(node(f"n{i:04d}")) for i in range(300)]
    first = schedule_one(pod(cpu="1"), infos, registry=DEFAULT_REGISTRY)
    assert first.processed == 144 and len(first.feasible) == 144  # 48% of 300 nodes
    assert set(first.verdicts) == {f"n{i:04d}" for i in range(144)}
    second = schedule_one(pod(cpu="1"), infos, registry=DEFAULT_REGISTRY, start=first.processed)
    assert next(iter(second.verdicts)) == "n0144"
