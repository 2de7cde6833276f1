"""Table-driven tests of every score plugin: raw scores and normalised scores per node."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.scheduler.framework.interface import default_normalize
from kubeviz.scheduler.framework.types import NodeInfo
from kubeviz.scheduler.plugins.registry import PLUGINS
from tests.scheduler.builders import node, pod, state

ZONE = "topology.kubernetes.io/zone"
WEB = {"app": "web"}
MIB = 2**20
SOFT = {"key": "k", "effect": "PreferNoSchedule"}


def _preferred(*pairs: tuple[int, str, str]) -> dict[str, Any]:
    terms = [
        {"weight": w, "preference": {"matchExpressions": [{"key": k, "operator": "In", "values": [v]}]}}
        for w, k, v in pairs
    ]
    return {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": terms}}


SPREAD = [
    {
        "maxSkew": 1,
        "topologyKey": ZONE,
        "whenUnsatisfiable": "ScheduleAnyway",
        "labelSelector": {"matchLabels": WEB},
    }
]

CASES: list[tuple[str, str, dict[str, Any], list[NodeInfo], dict[str, int], dict[str, int]]] = [
    (
        "NodeResourcesFit",
        "least allocated, cpu and memory averaged; missing requests count as 100m/200Mi",
        pod(cpu="1", memory="2Gi"),
        [
            NodeInfo.build(node("big")),
            NodeInfo.build(node("small", cpu="2")),
            NodeInfo.build(node("busy", cpu="1", memory="1Gi"), [pod("e")]),
        ],
        {"big": 75, "small": 62, "busy": 0},
        {"big": 75, "small": 62, "busy": 0},
    ),
    (
        "NodeResourcesFit",
        "best-effort pod uses the non-zero defaults",
        pod(),
        [NodeInfo.build(node("n", cpu="1", memory="1Gi"))],
        {"n": 85},
        {"n": 85},
    ),
    (
        "NodeResourcesBalancedAllocation",
        "equal fractions score 100, uneven ones less",
        pod(cpu="1", memory="2Gi"),
        [NodeInfo.build(node("even")), NodeInfo.build(node("uneven"), [pod("e", cpu="1")])],
        {"even": 100, "uneven": 87},
        {"even": 100, "uneven": 87},
    ),
    (
        "ImageLocality",
        "image on one of two nodes counts half its size",
        pod(),
        [
            NodeInfo.build(node("has", images=[{"names": ["app:latest"], "sizeBytes": 500 * MIB}])),
            NodeInfo.build(node("lacks")),
        ],
        {"has": 23, "lacks": 0},
        {"has": 23, "lacks": 0},
    ),
    (
        "TaintToleration",
        "fewer intolerable PreferNoSchedule taints win",
        pod(tolerations=[{"key": "t", "operator": "Exists", "effect": "NoSchedule"}]),
        [
            NodeInfo.build(node("two", taints=[SOFT, {**SOFT, "key": "t"}])),
            NodeInfo.build(node("one", taints=[SOFT])),
            NodeInfo.build(node("none")),
        ],
        {"two": 2, "one": 1, "none": 0},
        {"two": 0, "one": 50, "none": 100},
    ),
    (
        "NodeAffinity",
        "sum of matching preferred weights",
        pod(affinity=_preferred((10, "zone", "a"), (5, "disk", "ssd"))),
        [
            NodeInfo.build(node("both", labels={"zone": "a", "disk": "ssd"})),
            NodeInfo.build(node("zone", labels={"zone": "a"})),
            NodeInfo.build(node("neither")),
        ],
        {"both": 15, "zone": 10, "neither": 0},
        {"both": 100, "zone": 66, "neither": 0},
    ),
    (
        "PodTopologySpread",
        "fewer matching pods in the zone win",
        pod(labels=WEB, topologySpreadConstraints=SPREAD),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB), pod("f", labels=WEB)]),
            NodeInfo.build(node("b1", labels={ZONE: "b"})),
            NodeInfo.build(node("b2", labels={ZONE: "b"}), [pod("g", labels=WEB), pod("h")]),
            NodeInfo.build(node("nozone")),
        ],
        {"a1": 3, "b1": 1, "b2": 1, "nozone": 0},
        {"a1": 33, "b1": 100, "b2": 100, "nozone": 0},
    ),
]


@pytest.mark.parametrize(
    ("plugin", "case", "incoming", "infos", "raw", "normalized"),
    CASES,
    ids=[f"{c[0]}: {c[1]}" for c in CASES],
)
def test_score(
    plugin: str,
    case: str,
    incoming: dict[str, Any],
    infos: list[NodeInfo],
    raw: dict[str, int],
    normalized: dict[str, int],
) -> None:
    scorer = PLUGINS[plugin]()
    cycle = state(*infos)
    assert not scorer.skip(incoming, state=cycle)
    got = {i.name: scorer.score(incoming, i, state=cycle) for i in infos}
    assert got == raw
    assert scorer.normalize(got, state=cycle) == normalized


@pytest.mark.parametrize(
    ("plugin", "incoming"),
    [
        ("NodeResourcesBalancedAllocation", pod()),
        ("NodeAffinity", pod()),
        (
            "PodTopologySpread",
            pod(topologySpreadConstraints=[{**SPREAD[0], "whenUnsatisfiable": "DoNotSchedule"}]),
        ),
    ],
)
def test_skip(plugin: str, incoming: dict[str, Any]) -> None:
    assert PLUGINS[plugin]().skip(incoming, state=state())


@pytest.mark.parametrize(
    ("scores", "reverse", "expected"),
    [
        ({"a": 0, "b": 0}, False, {"a": 0, "b": 0}),
        ({"a": 0, "b": 0}, True, {"a": 100, "b": 100}),
        ({"a": 3, "b": 1}, False, {"a": 100, "b": 33}),
        ({"a": 3, "b": 1}, True, {"a": 0, "b": 67}),
    ],
)
def test_default_normalize(scores: dict[str, int], reverse: bool, expected: dict[str, int]) -> None:
    assert default_normalize(scores, reverse=reverse) == expected
