"""Table-driven tests of the StatefulSet controller's pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.statefulset.helpers import (
    CREATE,
    DELETE,
    UPDATE,
    apply_revision,
    choose_update_revision,
    complete_rolling_update,
    hash_revision,
    identity_matches,
    inconsistent_status,
    max_unavailable,
    new_pod,
    new_revision,
    new_versioned_pod,
    next_revision,
    parent_and_ordinal,
    plan_update,
    replica_status,
    revisions_to_truncate,
    sort_revisions,
    status_json,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CUR, UPD = "web-cur", "web-upd"


def ago(seconds: float) -> str:
    return format_time(NOW - timedelta(seconds=seconds))


def sts(
    *,
    replicas: int = 3,
    parallel: bool = False,
    strategy: dict[str, Any] | None = None,
    claims: list[str] | None = None,
    min_ready: int = 0,
    current_replicas: int = 0,
) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "replicas": replicas,
        "serviceName": "web",
        "selector": {"matchLabels": {"app": "web"}},
        "podManagementPolicy": "Parallel" if parallel else "OrderedReady",
        "updateStrategy": strategy or {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "minReadySeconds": min_ready,
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}]},
        },
    }
    if claims:
        spec["volumeClaimTemplates"] = [{"metadata": {"name": c}} for c in claims]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "uid": "sts-uid", "generation": 2},
        "spec": spec,
        "status": {"currentReplicas": current_replicas},
    }


def pod(
    ordinal: int,
    *,
    phase: str = "Running",
    ready: bool = True,
    revision: str = UPD,
    deleting: bool = False,
    labelled: bool = True,
) -> dict[str, Any]:
    labels = {"app": "web", "controller-revision-hash": revision}
    if labelled:
        labels["statefulset.kubernetes.io/pod-name"] = f"web-{ordinal}"
    meta: dict[str, Any] = {"name": f"web-{ordinal}", "namespace": "default", "labels": labels}
    if deleting:
        meta["deletionTimestamp"] = ago(1)
    condition = {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": ago(300)}
    return {"metadata": meta, "spec": {}, "status": {"phase": phase, "conditions": [condition]}}


def plan_for(the_sts: dict[str, Any], pods: list[dict[str, Any]]) -> list[list[tuple[str, str]]]:
    plan = plan_update(
        the_sts,
        pods=pods,
        current_set=the_sts,
        update_set=the_sts,
        current_revision=CUR,
        update_revision=UPD,
        now=NOW,
    )
    return [[(s.verb, s.pod["metadata"]["name"]) for s in phase] for phase in plan.phases]


# --- identity ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("web-0", ("web", 0)), ("my-db-12", ("my-db", 12)), ("web", ("", -1)), ("web-x", ("", -1))],
)
def test_parent_and_ordinal(name: str, expected: tuple[str, int]) -> None:
    assert parent_and_ordinal(name) == expected


def test_new_pod_has_its_identity_and_revision() -> None:
    p = new_pod(sts(claims=["data"]), 2, revision=UPD)
    assert p["metadata"]["name"] == "web-2"
    assert p["metadata"]["labels"] == {
        "app": "web",
        "statefulset.kubernetes.io/pod-name": "web-2",
        "apps.kubernetes.io/pod-index": "2",
        "controller-revision-hash": UPD,
    }
    assert (p["spec"]["hostname"], p["spec"]["subdomain"]) == ("web-2", "web")
    assert p["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-web-2"}}]
    assert p["metadata"]["ownerReferences"][0] == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "web",
        "uid": "sts-uid",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert identity_matches(sts(), p)
    assert not identity_matches(sts(), pod(1, labelled=False))


@pytest.mark.parametrize(
    ("strategy", "current_replicas", "ordinal", "revision"),
    [
        ({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, 0, 1, CUR),
        ({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}, 0, 2, UPD),
        ({"type": "RollingUpdate"}, 2, 1, CUR),
        ({"type": "RollingUpdate"}, 2, 2, UPD),
        ({"type": "OnDelete"}, 3, 0, UPD),
    ],
)
def test_new_versioned_pod(strategy: dict, current_replicas: int, ordinal: int, revision: str) -> None:
    current = sts(strategy=strategy, current_replicas=current_replicas)
    updated = {
        **current,
        "spec": {**current["spec"], "template": {"metadata": {"labels": {"v": "2"}}, "spec": {}}},
    }
    p = new_versioned_pod(current, updated, current_revision=CUR, update_revision=UPD, ordinal=ordinal)
    assert p["metadata"]["labels"]["controller-revision-hash"] == revision
    assert ("v" in p["metadata"]["labels"]) is (revision == UPD)


# --- the plan: OrderedReady -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "pods", "phases"),
    [
        ("creates web-0 first", [], [[(CREATE, "web-0")]]),
        ("waits for a pending pod", [pod(0, phase="Pending", ready=False)], [[]]),
        ("waits for readiness", [pod(0, ready=False)], [[]]),
        ("next ordinal once ready", [pod(0)], [[(CREATE, "web-1")]]),
        ("fills a gap in order", [pod(0), pod(2)], [[(CREATE, "web-1")]]),
        ("a failed pod is deleted and blocks", [pod(0, phase="Failed"), pod(1)], [[(DELETE, "web-0")]]),
        ("a terminating pod blocks", [pod(0, deleting=True), pod(1), pod(2)], [[]]),
        ("identity fixed in place", [pod(0, labelled=False), pod(1), pod(2)], [[(UPDATE, "web-0")], [], []]),
        ("all fine", [pod(0), pod(1), pod(2)], [[], [], []]),
    ],
)
def test_ordered_ready_replicas(case: str, pods: list[dict], phases: list) -> None:
    assert plan_for(sts(), pods) == phases, case


@pytest.mark.parametrize(
    ("case", "pods", "condemned"),
    [
        ("highest first, one per sync", [pod(0), pod(1), pod(2)], [(DELETE, "web-2")]),
        ("waits for a terminating one", [pod(0), pod(1), pod(2, deleting=True)], []),
        (
            "a healthy one goes whatever is below it",
            [pod(0), pod(1, ready=False), pod(2)],
            [(DELETE, "web-2")],
        ),
        (
            "an unhealthy one waits for a lower unhealthy one",
            [pod(0), pod(1, ready=False), pod(2, ready=False)],
            [],
        ),
        ("the first unhealthy pod may go", [pod(0), pod(1), pod(2, ready=False)], [(DELETE, "web-2")]),
    ],
)
def test_ordered_ready_scale_down(case: str, pods: list[dict], condemned: list) -> None:
    phases = plan_for(sts(replicas=1), pods)
    assert phases[:2] == [[], condemned], case


# --- the plan: Parallel -----------------------------------------------------------------------


def test_parallel_creates_and_deletes_everything_at_once() -> None:
    assert plan_for(sts(parallel=True), []) == [
        [(CREATE, "web-0"), (CREATE, "web-1"), (CREATE, "web-2")],
        [],
        [],
    ]
    pending = [pod(0, phase="Pending", ready=False), pod(2, phase="Failed")]
    assert plan_for(sts(parallel=True), pending)[0] == [(CREATE, "web-1"), (DELETE, "web-2")]
    shrink = plan_for(sts(replicas=1, parallel=True), [pod(0), pod(1, ready=False), pod(2)])
    assert shrink[1] == [(DELETE, "web-2"), (DELETE, "web-1")]


# --- the plan: updates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "strategy", "pods", "deletes"),
    [
        (
            "highest ordinal first",
            None,
            [pod(0, revision=CUR), pod(1, revision=CUR), pod(2, revision=CUR)],
            ["web-2"],
        ),
        ("then the next", None, [pod(0, revision=CUR), pod(1, revision=CUR), pod(2)], ["web-1"]),
        (
            "partition keeps lower ordinals",
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}},
            [pod(0, revision=CUR), pod(1, revision=CUR), pod(2)],
            [],
        ),
        (
            "maxUnavailable 2",
            {"type": "RollingUpdate", "rollingUpdate": {"partition": 0, "maxUnavailable": 2}},
            [pod(0, revision=CUR), pod(1, revision=CUR), pod(2, revision=CUR)],
            ["web-2", "web-1"],
        ),
        (
            "on delete does nothing",
            {"type": "OnDelete"},
            [pod(0, revision=CUR), pod(1, revision=CUR), pod(2)],
            None,
        ),
    ],
)
def test_rolling_update(
    case: str, strategy: dict | None, pods: list[dict], deletes: list[str] | None
) -> None:
    phases = plan_for(sts(strategy=strategy), pods)
    if deletes is None:
        assert len(phases) == 2, case
    else:
        assert phases[2] == [(DELETE, n) for n in deletes], case


def test_rolling_update_waits_while_a_replica_is_unavailable_in_parallel_mode() -> None:
    pods = [pod(0, revision=CUR), pod(1, ready=False), pod(2)]
    assert plan_for(sts(parallel=True), pods)[2] == []


@pytest.mark.parametrize(
    ("value", "replicas", "expected"),
    [(None, 5, 1), (3, 5, 3), ("50%", 5, 2), ("10%", 5, 1), (0, 5, 1)],
)
def test_max_unavailable(value: Any, replicas: int, expected: int) -> None:
    rolling: dict[str, Any] = {"partition": 0}
    if value is not None:
        rolling["maxUnavailable"] = value
    assert (
        max_unavailable(sts(replicas=replicas, strategy={"type": "RollingUpdate", "rollingUpdate": rolling}))
        == expected
    )


# --- status -----------------------------------------------------------------------------------


def test_replica_status_counts() -> None:
    pods = [
        pod(0, revision=CUR),
        pod(1, ready=False),
        pod(2, deleting=True),
        new_pod(sts(), 3, revision=UPD),  # not created yet: no phase
    ]
    counts = replica_status(pods, min_ready_seconds=0, current_revision=CUR, update_revision=UPD, now=NOW)
    assert counts == {
        "replicas": 3,
        "readyReplicas": 2,
        "availableReplicas": 2,
        "currentReplicas": 1,
        "updatedReplicas": 1,
    }
    slow = replica_status(pods, min_ready_seconds=600, current_revision=CUR, update_revision=UPD, now=NOW)
    assert slow["availableReplicas"] == 0


def test_complete_rolling_update_and_consistency() -> None:
    status = {"replicas": 3, "readyReplicas": 3, "updatedReplicas": 3, "currentReplicas": 0}
    status |= {"currentRevision": CUR, "updateRevision": UPD, "observedGeneration": 2}
    done = complete_rolling_update(sts(), status)
    assert (done["currentRevision"], done["currentReplicas"]) == (UPD, 3)
    assert complete_rolling_update(sts(strategy={"type": "OnDelete"}), status)["currentRevision"] == CUR
    assert inconsistent_status(sts(), done)
    same = {**sts(), "status": status_json(done)}
    assert not inconsistent_status(same, done)
    assert inconsistent_status(same, {**done, "observedGeneration": 3})
    assert status_json(
        {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0, "currentRevision": ""}
    ) == {
        "replicas": 0,
        "availableReplicas": 0,
    }


# --- revisions --------------------------------------------------------------------------------


def test_revision_hash_is_stable_and_mixes_the_collision_count() -> None:
    data = new_revision(sts(), revision=1, collision_count=0)["data"]
    assert hash_revision(data, 0) == hash_revision(dict(reversed(list(data.items()))), 0)
    assert hash_revision(data, 0) != hash_revision(data, 1)
    revision = new_revision(sts(), revision=4, collision_count=0)
    assert revision["metadata"]["name"] == f"web-{hash_revision(data, 0)}"
    assert revision["metadata"]["labels"]["controller-revision-hash"] == hash_revision(data, 0)
    assert revision["revision"] == 4


def test_apply_revision_restores_the_template() -> None:
    old = new_revision(sts(), revision=1, collision_count=0)
    changed = sts()
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.28"
    restored = apply_revision(changed, old)
    assert restored["spec"]["template"] == sts()["spec"]["template"]
    assert restored["spec"]["replicas"] == 3


def rev(name: str, number: int, image: str) -> dict[str, Any]:
    the_sts = sts()
    the_sts["spec"]["template"]["spec"]["containers"][0]["image"] = image
    return {**new_revision(the_sts, revision=number, collision_count=0), "metadata": {"name": name}}


@pytest.mark.parametrize(
    ("image", "action", "picked"),
    [("nginx:2", "reuse", "b"), ("nginx:1", "rollback", "a"), ("nginx:3", "create", None)],
)
def test_choose_update_revision(image: str, action: str, picked: str | None) -> None:
    revisions = sort_revisions([rev("b", 2, "nginx:2"), rev("a", 1, "nginx:1")])
    assert next_revision(revisions) == 3
    choice = choose_update_revision(revisions, rev("candidate", 3, image))
    assert choice.action == action
    assert choice.revision["metadata"]["name"] == (picked or "candidate")


def test_revisions_to_truncate_keeps_live_and_the_limit() -> None:
    revisions = sort_revisions([rev(f"r{n}", n, f"nginx:{n}") for n in range(1, 6)])
    the_sts = sts()
    the_sts["spec"]["revisionHistoryLimit"] = 1
    pods = [pod(0, revision="r2")]
    out = revisions_to_truncate(the_sts, pods=pods, revisions=revisions, live=["r5", "r4"])
    assert [r["metadata"]["name"] for r in out] == ["r1"]
    the_sts["spec"]["revisionHistoryLimit"] = 0
    out = revisions_to_truncate(the_sts, pods=pods, revisions=revisions, live=["r5", "r4"])
    assert [r["metadata"]["name"] for r in out] == ["r1", "r3"]
