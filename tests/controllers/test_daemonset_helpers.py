"""Table-driven tests of the DaemonSet controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.daemonset.helpers import (
    BackoffEntry,
    add_or_update_toleration,
    calculate_status,
    create_pod_template,
    histories_to_delete,
    in_backoff,
    is_pod_updated,
    new_revision,
    next_backoff,
    node_should_run_daemon_pod,
    nodes_to_daemon_pods,
    pods_should_be_on_node,
    replace_node_name_affinity,
    revision_matches,
    rolling_update,
    status_with,
    surge_count,
    target_node_name,
    unavailable_count,
    unscheduled_pods_without_node,
    with_daemon_tolerations,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
HASH = "new"
CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def node(
    name: str, *, labels: dict[str, str] | None = None, taints: list[dict] | None = None
) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def ds(
    *,
    template_spec: dict[str, Any] | None = None,
    strategy: dict[str, Any] | None = None,
    generation: str | None = "2",
    min_ready: int = 0,
) -> dict[str, Any]:
    annotations = {} if generation is None else {"deprecated.daemonset.template.generation": generation}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid", "annotations": annotations},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "minReadySeconds": min_ready,
            "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "c", "image": "agent:1"}], **(template_spec or {})},
            },
        },
    }


def pod(
    name: str,
    *,
    node_name: str | None = "n1",
    target: str | None = None,
    phase: str = "Running",
    ready: bool = True,
    hash_: str = HASH,
    age: float = 600,
    deleting: bool = False,
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "creationTimestamp": ago(age),
        "labels": {"app": "agent", "controller-revision-hash": hash_},
    }
    if deleting:
        meta["deletionTimestamp"] = ago(1)
    spec: dict[str, Any] = {}
    if node_name:
        spec["nodeName"] = node_name
    if target:
        spec["affinity"] = replace_node_name_affinity(None, target)
    condition = {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ago(300)}
    return {"metadata": meta, "spec": spec, "status": {"phase": phase, "conditions": [condition]}}


# --- eligibility ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_node", "template_spec", "expected"),
    [
        (node("w"), {}, (True, True)),
        (node("m", taints=[CONTROL_PLANE]), {}, (False, True)),  # NoSchedule does not evict
        (
            node("m", taints=[CONTROL_PLANE]),
            {"tolerations": [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"}]},
            (True, True),
        ),
        (node("w", taints=[{"key": "dedicated", "value": "db", "effect": "NoExecute"}]), {}, (False, False)),
        (node("w", taints=[{"key": "x", "effect": "PreferNoSchedule"}]), {}, (True, True)),
        # Daemon tolerations cover the node-problem taints.
        (
            node("w", taints=[{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]),
            {},
            (True, True),
        ),
        (
            node("w", taints=[{"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"}]),
            {},
            (True, True),
        ),
        (
            node("w", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
            {},
            (False, True),
        ),
        (
            node("w", taints=[{"key": "node.kubernetes.io/network-unavailable", "effect": "NoSchedule"}]),
            {"hostNetwork": True},
            (True, True),
        ),
        (node("w", labels={"disk": "ssd"}), {"nodeSelector": {"disk": "ssd"}}, (True, True)),
        (node("w"), {"nodeSelector": {"disk": "ssd"}}, (False, False)),
        (node("w"), {"nodeName": "other"}, (False, False)),
        (
            node("w", labels={"zone": "a"}),
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}
                            ]
                        }
                    }
                }
            },
            (False, False),
        ),
    ],
)
def test_node_should_run_daemon_pod(
    the_node: dict[str, Any], template_spec: dict[str, Any], expected: tuple[bool, bool]
) -> None:
    assert node_should_run_daemon_pod(the_node, ds(template_spec=template_spec)) == expected


def test_daemon_tolerations_in_upstream_order_without_seconds() -> None:
    spec = with_daemon_tolerations({"tolerations": [{"key": "a", "operator": "Exists"}]})
    assert spec["tolerations"] == [
        {"key": "a", "operator": "Exists"},
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
    ]
    host = with_daemon_tolerations({"hostNetwork": True})
    assert host["tolerations"][-1]["key"] == "node.kubernetes.io/network-unavailable"


def test_add_or_update_toleration_replaces_the_same_rule_only() -> None:
    existing = [{"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    same_rule = {"key": "k", "operator": "Exists", "effect": "NoExecute"}
    assert add_or_update_toleration(existing, same_rule) == [same_rule]
    other = {"key": "k", "operator": "Exists", "effect": "NoSchedule"}
    assert add_or_update_toleration(existing, other) == [*existing, other]


@pytest.mark.parametrize(
    ("affinity", "kept"),
    [
        (None, {}),
        ({"podAffinity": {"x": 1}}, {"podAffinity": {"x": 1}}),
        (
            {
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [{"matchExpressions": []}]
                    },
                    "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}],
                }
            },
            {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1}]}},
        ),
    ],
)
def test_replace_node_name_affinity_pins_the_node(affinity: dict | None, kept: dict) -> None:
    out = replace_node_name_affinity(affinity, "w1")
    terms = out["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["w1"]}]}]
    for key, value in kept.items():
        if key == "nodeAffinity":
            assert out[key]["preferredDuringSchedulingIgnoredDuringExecution"] == [{"weight": 1}]
        else:
            assert out[key] == value


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (pod("a", node_name="n2"), "n2"),
        (pod("a", node_name=None, target="n3"), "n3"),
        (pod("a", node_name=None), None),
    ],
)
def test_target_node_name(p: dict[str, Any], expected: str | None) -> None:
    assert target_node_name(p) == expected


def test_create_pod_template_labels_generation_and_hash() -> None:
    template = create_pod_template(ds()["spec"]["template"], generation=3, hash_="abc")
    assert template["metadata"]["labels"] == {
        "app": "agent",
        "pod-template-generation": "3",
        "controller-revision-hash": "abc",
    }
    assert any(t["key"] == "node.kubernetes.io/not-ready" for t in template["spec"]["tolerations"])
    bare = create_pod_template(ds()["spec"]["template"], generation=None, hash_="")
    assert bare["metadata"]["labels"] == {"app": "agent"}


@pytest.mark.parametrize(
    ("labels", "generation", "updated"),
    [
        ({"controller-revision-hash": HASH}, None, True),
        ({"controller-revision-hash": "old", "pod-template-generation": "2"}, 2, True),
        ({"controller-revision-hash": "old", "pod-template-generation": "1"}, 2, False),
        ({}, None, False),
    ],
)
def test_is_pod_updated(labels: dict[str, str], generation: int | None, updated: bool) -> None:
    assert is_pod_updated({"metadata": {"labels": labels}}, hash_=HASH, generation=generation) is updated


# --- per node ---------------------------------------------------------------------------------


def names(pods: list[Any]) -> list[str]:
    return [p["metadata"]["name"] if isinstance(p, dict) else p for p in pods]


@pytest.mark.parametrize(
    ("case", "pods", "strategy", "in_backoff", "create", "delete", "backing_off"),
    [
        ("missing", None, None, False, True, [], False),
        ("one running", [pod("a")], None, False, False, [], False),
        (
            "extra pods: oldest stays",
            [pod("young", age=10), pod("old", age=900)],
            None,
            False,
            False,
            ["young"],
            False,
        ),
        ("failed pod goes", [pod("f", phase="Failed")], None, False, False, ["f"], False),
        ("failed pod in backoff", [pod("f", phase="Failed")], None, True, False, [], True),
        (
            "two failed: one per backoff",
            [pod("f1", phase="Failed"), pod("f2", phase="Failed")],
            None,
            False,
            False,
            ["f1"],
            True,
        ),
        ("succeeded pod goes", [pod("s", phase="Succeeded")], None, False, False, ["s"], False),
        ("terminating ignored", [pod("t", deleting=True)], None, False, False, [], False),
        (
            "surge: new not available keeps old",
            [pod("old", hash_="old", age=900), pod("new", ready=False, age=10)],
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            False,
            False,
            [],
            False,
        ),
        (
            "surge: new available replaces old",
            [pod("old", hash_="old", age=900), pod("new", age=10)],
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            False,
            False,
            ["old"],
            False,
        ),
        (
            "surge: no pod left creates",
            [pod("t", deleting=True)],
            {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            False,
            True,
            [],
            False,
        ),
    ],
)
def test_pods_should_be_on_node(
    case: str,
    pods: list[dict] | None,
    strategy: dict | None,
    in_backoff: bool,
    create: bool,
    delete: list[str],
    backing_off: bool,
) -> None:
    plan = pods_should_be_on_node(
        node("n1"), ds(strategy=strategy), daemon_pods=pods, hash_=HASH, now=NOW, in_backoff=in_backoff
    )
    assert (plan.create, plan.delete, plan.backing_off) == (create, delete, backing_off), case


def test_pods_leave_a_node_the_daemonset_no_longer_fits() -> None:
    plan = pods_should_be_on_node(
        node("n1"),
        ds(template_spec={"nodeSelector": {"disk": "ssd"}}),
        daemon_pods=[pod("a"), pod("t", deleting=True)],
        hash_=HASH,
        now=NOW,
    )
    assert (plan.create, plan.delete) == (False, ["a"])


def test_grouping_by_node_and_orphaned_pins() -> None:
    pods = [
        pod("a", node_name="n1"),
        pod("b", node_name=None, target="gone"),
        pod("c", node_name="n1", phase="Failed", deleting=True),
        pod("d", node_name=None),
    ]
    grouped = nodes_to_daemon_pods(pods, include_deleted_terminal=False)
    assert {k: names(v) for k, v in grouped.items()} == {"n1": ["a"], "gone": ["b"]}
    with_terminal = nodes_to_daemon_pods(pods, include_deleted_terminal=True)
    assert names(with_terminal["n1"]) == ["a", "c"]
    assert unscheduled_pods_without_node(["n1"], grouped) == ["b"]


# --- rolling update ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "total", "expected"),
    [(1, 5, 1), ("25%", 5, 2), ("10%", 3, 1), (None, 4, 0)],
)
def test_unavailable_count_rounds_up(value: Any, total: int, expected: int) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": value}}
    assert unavailable_count(ds(strategy=strategy), total) == expected
    assert surge_count(ds(strategy={"type": "OnDelete"}), total) == 0


def three_nodes() -> list[dict[str, Any]]:
    return [node("n1"), node("n2"), node("n3")]


@pytest.mark.parametrize(
    ("case", "by_node", "max_unavailable", "delete"),
    [
        (
            "one at a time",
            {f"n{i}": [pod(f"p{i}", node_name=f"n{i}", hash_="old")] for i in (1, 2, 3)},
            1,
            ["p1"],
        ),
        (
            "two at a time",
            {f"n{i}": [pod(f"p{i}", node_name=f"n{i}", hash_="old")] for i in (1, 2, 3)},
            2,
            ["p1", "p2"],
        ),
        (
            "a new pod not yet ready uses the budget",
            {
                "n1": [pod("p1", node_name="n1", ready=False)],
                "n2": [pod("p2", node_name="n2", hash_="old")],
                "n3": [pod("p3", node_name="n3", hash_="old")],
            },
            1,
            [],
        ),
        (
            "an unavailable old pod is always replaced",
            {
                "n1": [pod("p1", node_name="n1", ready=False)],
                "n2": [pod("p2", node_name="n2", hash_="old", ready=False)],
                "n3": [pod("p3", node_name="n3", hash_="old")],
            },
            1,
            ["p2"],
        ),
        (
            "a node without a pod counts as unavailable",
            {"n2": [pod("p2", node_name="n2", hash_="old")], "n3": [pod("p3", node_name="n3", hash_="old")]},
            1,
            [],
        ),
        ("all updated", {f"n{i}": [pod(f"p{i}", node_name=f"n{i}")] for i in (1, 2, 3)}, 1, []),
    ],
)
def test_rolling_update_without_surge(
    case: str, by_node: dict[str, list[dict]], max_unavailable: int, delete: list[str]
) -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable, "maxSurge": 0}}
    step = rolling_update(
        ds(strategy=strategy), nodes=three_nodes(), nodes_to_pods=by_node, hash_=HASH, now=NOW
    )
    assert (step.delete, step.create_on) == (delete, []), case


def test_rolling_update_with_surge() -> None:
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    by_node = {
        "n1": [
            pod("o1", node_name="n1", hash_="old"),
            pod("new1", node_name="n1"),
        ],  # new available: old goes
        "n2": [pod("o2", node_name="n2", hash_="old")],  # surge candidate
        "n3": [pod("o3", node_name="n3", hash_="old", ready=False)],  # unavailable: replaced at once
    }
    step = rolling_update(
        ds(strategy=strategy), nodes=three_nodes(), nodes_to_pods=by_node, hash_=HASH, now=NOW
    )
    assert step.delete == ["o1"]
    assert step.create_on == ["n3", "n2"]


# --- status and history -----------------------------------------------------------------------


def test_calculate_status_judges_the_oldest_pod_per_node() -> None:
    nodes = [node("n1"), node("n2"), node("n3"), node("m", taints=[CONTROL_PLANE])]
    by_node = {
        "n1": [pod("a", hash_="old", age=900), pod("b", age=10)],
        "n2": [pod("c", node_name="n2", ready=False)],
        "m": [pod("d", node_name="m")],
    }
    counts = calculate_status(ds(generation=None), nodes=nodes, nodes_to_pods=by_node, hash_=HASH, now=NOW)
    assert counts == {
        "desiredNumberScheduled": 3,
        "currentNumberScheduled": 2,
        "numberMisscheduled": 1,
        "numberReady": 1,
        "updatedNumberScheduled": 1,
        "numberAvailable": 1,
        "numberUnavailable": 2,
    }


def test_min_ready_seconds_delays_availability() -> None:
    counts = calculate_status(
        ds(min_ready=600), nodes=[node("n1")], nodes_to_pods={"n1": [pod("a")]}, hash_=HASH, now=NOW
    )
    assert (counts["numberReady"], counts["numberAvailable"]) == (1, 0)


def test_status_with_drops_zero_optional_counts() -> None:
    counts = {"desiredNumberScheduled": 0, "numberAvailable": 0, "numberUnavailable": 0}
    out = status_with({"collisionCount": 1}, counts, observed_generation=4)
    assert out == {"collisionCount": 1, "desiredNumberScheduled": 0, "observedGeneration": 4}


def test_revision_records_the_template_and_matches_it() -> None:
    the_ds = ds()
    revision = new_revision(the_ds, revision=3, hash_="h1")
    assert revision["metadata"]["name"] == "agent-h1"
    assert revision["metadata"]["labels"] == {"app": "agent", "controller-revision-hash": "h1"}
    assert revision["metadata"]["ownerReferences"][0]["uid"] == "ds-uid"
    assert revision["revision"] == 3
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert revision_matches(the_ds, revision)
    changed = ds(template_spec={"hostNetwork": True})
    assert not revision_matches(changed, revision)


def test_histories_to_delete_keeps_the_limit_and_live_ones() -> None:
    def rev(n: int) -> dict[str, Any]:
        return {"revision": n, "metadata": {"name": f"r{n}", "labels": {"controller-revision-hash": f"h{n}"}}}

    old = [rev(3), rev(1), rev(2), rev(4)]
    # Three must go; r1 is skipped because a pod still runs it.
    assert names(histories_to_delete(old, limit=1, live_hashes={"h1"})) == ["r2", "r3", "r4"]
    assert names(histories_to_delete(old, limit=2, live_hashes=set())) == ["r1", "r2"]
    assert histories_to_delete(old, limit=10, live_hashes=set()) == []


def test_failed_pod_backoff_doubles_and_resets() -> None:
    entry = next_backoff(None, 100.0, initial=1.0, maximum=8.0)
    assert entry == BackoffEntry(1.0, 100.0)
    assert in_backoff(entry, 100.5) and not in_backoff(entry, 101.5)
    for expected in (2.0, 4.0, 8.0, 8.0):
        entry = next_backoff(entry, entry.updated + 0.1, initial=1.0, maximum=8.0)
        assert entry.delay == expected
    assert next_backoff(entry, entry.updated + 17.0, initial=1.0, maximum=8.0).delay == 1.0
    assert not in_backoff(None, 0.0)
