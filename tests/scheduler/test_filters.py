"""Table-driven tests of every filter plugin: one passing and one failing case at least."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.scheduler.framework.types import Code, NodeInfo, Status
from kubeviz.scheduler.plugins.registry import PLUGINS
from tests.scheduler.builders import node, pod, state

CP_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
ZONE = "topology.kubernetes.io/zone"
WEB = {"app": "web"}
U, UU = Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE


def _affinity(kind: str, key: str, *, labels: dict[str, str] = WEB) -> dict[str, Any]:
    term = {"labelSelector": {"matchLabels": labels}, "topologyKey": key}
    return {kind: {"requiredDuringSchedulingIgnoredDuringExecution": [term]}}


def _node_terms(*terms: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}}
    }


def _spread(max_skew: int = 1, when: str = "DoNotSchedule", **extra: Any) -> list[dict[str, Any]]:
    c = {
        "maxSkew": max_skew,
        "topologyKey": ZONE,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": WEB},
    }
    return [{**c, **extra}]


CASES: list[tuple[str, str, dict[str, Any], list[NodeInfo], str, Status]] = [
    ("NodeUnschedulable", "schedulable", pod(), [NodeInfo.build(node("n"))], "n", Status()),
    (
        "NodeUnschedulable",
        "cordoned",
        pod(),
        [NodeInfo.build(node("n", unschedulable=True))],
        "n",
        Status(UU, ("node(s) were unschedulable",)),
    ),
    (
        "NodeUnschedulable",
        "cordoned but tolerated",
        pod(
            tolerations=[
                {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"}
            ]
        ),
        [NodeInfo.build(node("n", unschedulable=True))],
        "n",
        Status(),
    ),
    ("NodeName", "same name", pod(nodeName="n"), [NodeInfo.build(node("n"))], "n", Status()),
    (
        "NodeName",
        "other name",
        pod(nodeName="m"),
        [NodeInfo.build(node("n"))],
        "n",
        Status(UU, ("node(s) didn't match the requested node name",)),
    ),
    (
        "TaintToleration",
        "control plane taint",
        pod(),
        [NodeInfo.build(node("n", taints=[CP_TAINT]))],
        "n",
        Status(UU, ("node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }",)),
    ),
    (
        "TaintToleration",
        "value printed",
        pod(tolerations=[{"key": "gpu", "value": "no", "effect": "NoExecute"}]),
        [NodeInfo.build(node("n", taints=[{"key": "gpu", "value": "yes", "effect": "NoExecute"}]))],
        "n",
        Status(UU, ("node(s) had untolerated taint {gpu: yes}",)),
    ),
    (
        "TaintToleration",
        "tolerated, and soft taints never filter",
        pod(tolerations=[{"operator": "Exists"}]),
        [NodeInfo.build(node("n", taints=[CP_TAINT, {"key": "k", "effect": "PreferNoSchedule"}]))],
        "n",
        Status(),
    ),
    (
        "NodeAffinity",
        "nodeSelector matches",
        pod(nodeSelector={"disk": "ssd"}),
        [NodeInfo.build(node("n", labels={"disk": "ssd"}))],
        "n",
        Status(),
    ),
    (
        "NodeAffinity",
        "nodeSelector misses",
        pod(nodeSelector={"disk": "ssd"}),
        [NodeInfo.build(node("n", labels={"disk": "hdd"}))],
        "n",
        Status(UU, ("node(s) didn't match Pod's node affinity/selector",)),
    ),
    (
        "NodeAffinity",
        "second term matches (terms are ORed): Gt and matchFields",
        pod(
            affinity=_node_terms(
                {"matchExpressions": [{"key": "cores", "operator": "Lt", "values": ["4"]}]},
                {
                    "matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}],
                    "matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n"]}],
                },
            )
        ),
        [NodeInfo.build(node("n", labels={"cores": "8"}))],
        "n",
        Status(),
    ),
    (
        "NodeAffinity",
        "NotIn and DoesNotExist fail",
        pod(
            affinity=_node_terms(
                {"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]},
                {"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]},
            )
        ),
        [NodeInfo.build(node("n", labels={"zone": "a"}))],
        "n",
        Status(UU, ("node(s) didn't match Pod's node affinity/selector",)),
    ),
    ("NodeResourcesFit", "fits", pod(cpu="3", memory="8Gi"), [NodeInfo.build(node("n"))], "n", Status()),
    (
        "NodeResourcesFit",
        "short of cpu and memory after existing pods",
        pod(cpu="2", memory="5Gi"),
        [NodeInfo.build(node("n"), [pod("e", cpu="3", memory="4Gi")])],
        "n",
        Status(U, ("Insufficient cpu", "Insufficient memory")),
    ),
    (
        "NodeResourcesFit",
        "more than the whole node is unresolvable",
        pod(cpu="5"),
        [NodeInfo.build(node("n"))],
        "n",
        Status(UU, ("Insufficient cpu",)),
    ),
    (
        "NodeResourcesFit",
        "pod count",
        pod(),
        [NodeInfo.build(node("n", pods="1"), [pod("e")])],
        "n",
        Status(U, ("Too many pods",)),
    ),
    (
        "NodePorts",
        "different protocol is free",
        pod(containers=[{"name": "c", "ports": [{"containerPort": 53, "hostPort": 53, "protocol": "UDP"}]}]),
        [NodeInfo.build(node("n"), [pod("e", containers=[{"name": "c", "ports": [{"hostPort": 53}]}])])],
        "n",
        Status(),
    ),
    (
        "NodePorts",
        "wildcard IP conflicts with a specific one",
        pod(containers=[{"name": "c", "ports": [{"hostPort": 80, "hostIP": "10.0.0.1"}]}]),
        [NodeInfo.build(node("n"), [pod("e", containers=[{"name": "c", "ports": [{"hostPort": 80}]}])])],
        "n",
        Status(U, ("node(s) didn't have free ports for the requested pod ports",)),
    ),
    (
        "PodTopologySpread",
        "skew 2 over maxSkew 1",
        pod(labels=WEB, topologySpreadConstraints=_spread()),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("b1", labels={ZONE: "b"})),
        ],
        "a1",
        Status(U, ("node(s) didn't match pod topology spread constraints",)),
    ),
    (
        "PodTopologySpread",
        "emptier zone passes",
        pod(labels=WEB, topologySpreadConstraints=_spread()),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("b1", labels={ZONE: "b"})),
        ],
        "b1",
        Status(),
    ),
    (
        "PodTopologySpread",
        "minDomains not reached makes the minimum 0",
        pod(labels=WEB, topologySpreadConstraints=_spread(max_skew=1, minDomains=3)),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("b1", labels={ZONE: "b"}), [pod("f", labels=WEB)]),
        ],
        "b1",
        Status(U, ("node(s) didn't match pod topology spread constraints",)),
    ),
    (
        "PodTopologySpread",
        "missing topology key",
        pod(labels=WEB, topologySpreadConstraints=_spread()),
        [NodeInfo.build(node("n"))],
        "n",
        Status(UU, ("node(s) didn't match pod topology spread constraints (missing required label)",)),
    ),
    (
        "InterPodAffinity",
        "affinity satisfied in the zone",
        pod(affinity=_affinity("podAffinity", ZONE)),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("a2", labels={ZONE: "a"})),
        ],
        "a2",
        Status(),
    ),
    (
        "InterPodAffinity",
        "affinity not satisfied",
        pod(affinity=_affinity("podAffinity", ZONE)),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("b1", labels={ZONE: "b"})),
        ],
        "b1",
        Status(UU, ("node(s) didn't match pod affinity rules",)),
    ),
    (
        "InterPodAffinity",
        "first pod of a self-affine group",
        pod(labels=WEB, affinity=_affinity("podAffinity", ZONE)),
        [NodeInfo.build(node("b1", labels={ZONE: "b"}))],
        "b1",
        Status(),
    ),
    (
        "InterPodAffinity",
        "anti-affinity against a pod in the zone",
        pod(affinity=_affinity("podAntiAffinity", ZONE)),
        [
            NodeInfo.build(node("a1", labels={ZONE: "a"}), [pod("e", labels=WEB)]),
            NodeInfo.build(node("a2", labels={ZONE: "a"})),
        ],
        "a2",
        Status(U, ("node(s) didn't match pod anti-affinity rules",)),
    ),
    (
        "InterPodAffinity",
        "existing pod's anti-affinity",
        pod(labels=WEB),
        [
            NodeInfo.build(
                node("a1", labels={ZONE: "a"}), [pod("e", affinity=_affinity("podAntiAffinity", ZONE))]
            ),
            NodeInfo.build(node("a2", labels={ZONE: "a"})),
        ],
        "a2",
        Status(U, ("node(s) didn't satisfy existing pods anti-affinity rules",)),
    ),
    (
        "InterPodAffinity",
        "other namespace is not selected",
        pod(namespace="other", labels=WEB),
        [
            NodeInfo.build(
                node("a1", labels={ZONE: "a"}), [pod("e", affinity=_affinity("podAntiAffinity", ZONE))]
            )
        ],
        "a1",
        Status(),
    ),
]


@pytest.mark.parametrize(
    ("plugin", "case", "incoming", "infos", "target", "expected"),
    CASES,
    ids=[f"{c[0]}: {c[1]}" for c in CASES],
)
def test_filter(
    plugin: str, case: str, incoming: dict[str, Any], infos: list[NodeInfo], target: str, expected: Status
) -> None:
    node_info = next(i for i in infos if i.name == target)
    got = PLUGINS[plugin]().filter(incoming, node_info, state=state(*infos))
    assert (got.code, got.reasons) == (expected.code, expected.reasons)


def test_every_filter_has_a_failing_case() -> None:
    failing = {c[0] for c in CASES if not c[5].is_success()}
    assert failing == {c[0] for c in CASES}
