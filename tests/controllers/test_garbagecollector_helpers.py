"""Table-driven tests of the garbage collector's pure helpers."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.client.rest import CONFIGMAPS, NAMESPACES, PODS, REPLICASETS
from kubeviz.controllers.garbagecollector import helpers
from kubeviz.controllers.garbagecollector.helpers import Action, OwnerState, Target

SOLID, DANGLING, WAITING = OwnerState.SOLID, OwnerState.DANGLING, OwnerState.WAITING


def obj(
    uid: str = "u1",
    *,
    owners: list[dict[str, Any]] | None = None,
    finalizers: list[str] | None = None,
    deleting: bool = False,
    namespace: str | None = "ns",
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"n-{uid}", "uid": uid, "resourceVersion": "7"}
    if namespace:
        meta["namespace"] = namespace
    if owners:
        meta["ownerReferences"] = owners
    if finalizers:
        meta["finalizers"] = finalizers
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta}


def ref(uid: str, *, kind: str = "ReplicaSet", api: str = "apps/v1", block: bool = True) -> dict[str, Any]:
    out = {"apiVersion": api, "kind": kind, "name": f"n-{uid}", "uid": uid}
    if block:
        out["blockOwnerDeletion"] = True
    return out


def test_target_round_trips_through_its_key():
    target = Target("replicasets.apps", "default", "web", "1234")
    assert target.encode() == "replicasets.apps|default|web|1234"
    assert Target.decode(target.encode()) == target
    assert Target.decode("namespaces||kube-system|9") == Target("namespaces", "", "kube-system", "9")


def test_keys_name_the_object_and_its_known_owners():
    pod = obj(
        "p",
        owners=[
            ref("rs"),
            ref("cm", kind="ConfigMap", api="v1"),
            ref("x", kind="Widget", api="example.com/v1"),
        ],
    )
    assert helpers.keys_for(PODS, pod) == [
        "pods|ns|n-p|p",
        "replicasets.apps|ns|n-rs|rs",
        "configmaps|ns|n-cm|cm",
    ]
    node_owned = obj("c", owners=[ref("node", kind="Namespace", api="v1")])
    assert helpers.keys_for(CONFIGMAPS, node_owned)[1] == "namespaces||n-node|node"
    assert helpers.keys_for(NAMESPACES, obj("n", namespace=None)) == ["namespaces||n-n|n"]


@pytest.mark.parametrize(
    ("owner", "state"),
    [
        (None, DANGLING),
        (obj("other"), DANGLING),
        (obj("o"), SOLID),
        (obj("o", deleting=True), SOLID),
        (obj("o", deleting=True, finalizers=["orphan"]), SOLID),
        (obj("o", deleting=True, finalizers=["foregroundDeletion"]), WAITING),
        (obj("o", finalizers=["foregroundDeletion"]), SOLID),
    ],
    ids=["missing", "uid-mismatch", "live", "deleting", "orphaning", "foreground", "finalizer-only"],
)
def test_owner_state(owner, state):
    assert helpers.owner_state(owner, "o") is state


@pytest.mark.parametrize(
    ("states", "item", "has_deps", "dep_dd", "action"),
    [
        ({"a": SOLID}, obj(), False, False, helpers.NOTHING),
        ({"a": SOLID, "b": DANGLING, "c": WAITING}, obj(), True, False, Action("patch", drop=("b", "c"))),
        ({"a": DANGLING}, obj(), False, False, Action("delete", policy="Background")),
        ({"a": DANGLING, "b": DANGLING}, obj(), True, False, Action("delete", policy="Background")),
        ({"a": WAITING}, obj(), False, False, Action("delete", policy="Background")),
        ({"a": WAITING}, obj(), True, False, Action("delete", policy="Foreground")),
        ({"a": WAITING}, obj(), True, True, Action("delete", policy="Foreground", unblock=True)),
        ({"a": DANGLING}, obj(finalizers=["orphan"]), False, False, Action("delete", policy="Orphan")),
        (
            {"a": DANGLING},
            obj(finalizers=["foregroundDeletion"]),
            False,
            False,
            Action("delete", policy="Foreground"),
        ),
    ],
    ids=[
        "solid",
        "solid-with-dangling",
        "dangling",
        "all-dangling-with-dependents",
        "waiting-leaf",
        "waiting-with-dependents",
        "cycle-guard",
        "keeps-orphan-finalizer",
        "keeps-foreground-finalizer",
    ],
)
def test_decide(states, item, has_deps, dep_dd, action):
    got = helpers.decide(states, item=item, has_dependents=has_deps, dependent_deleting_dependents=dep_dd)
    assert got == action


def test_blocking_dependents_only_counts_blocking_references_to_that_owner():
    deps = [
        obj("1", owners=[ref("o")]),
        obj("2", owners=[ref("o", block=False)]),
        obj("3", owners=[ref("other")]),
        obj("4", owners=[ref("other"), ref("o")], deleting=True),
    ]
    assert [d["metadata"]["uid"] for d in helpers.blocking_dependents("o", deps)] == ["1", "4"]


def test_patches():
    assert helpers.delete_owner_refs_patch("d", ["a", "b"]) == {
        "metadata": {
            "ownerReferences": [{"$patch": "delete", "uid": "a"}, {"$patch": "delete", "uid": "b"}],
            "uid": "d",
        }
    }
    item = obj("d", owners=[ref("a"), ref("b", block=False)])
    assert helpers.unblock_owner_refs_patch(item) == {
        "metadata": {"ownerReferences": [{"uid": "a", "blockOwnerDeletion": False}], "uid": "d"}
    }
    assert helpers.unblock_owner_refs_patch(obj("d", owners=[ref("b", block=False)])) is None


@pytest.mark.parametrize(
    ("finalizers", "name", "expected"),
    [
        (["orphan"], "orphan", []),
        (["a", "foregroundDeletion", "b"], "foregroundDeletion", ["a", "b"]),
        (["a"], "orphan", None),
        (None, "orphan", None),
    ],
)
def test_without_finalizer(finalizers, name, expected):
    assert helpers.without_finalizer(obj(finalizers=finalizers), name) == expected


def test_flags_and_references():
    rs = obj("rs", deleting=True, finalizers=["foregroundDeletion"])
    assert helpers.deleting_dependents(rs) and not helpers.orphaning_dependents(rs)
    assert helpers.orphaning_dependents(obj(deleting=True, finalizers=["orphan"]))
    assert not helpers.deleting_dependents(obj(finalizers=["foregroundDeletion"]))
    assert helpers.reference_to(obj(owners=[ref("a")]), "a") == ref("a")
    assert helpers.reference_to(obj(owners=[ref("a")]), "b") is None
    assert helpers.resource_of_reference(ref("a")) == REPLICASETS
    assert helpers.resource_of_reference(ref("a", kind="Widget")) is None


def test_invalid_namespace_message_matches_upstream():
    message = helpers.invalid_namespace_message(ref("u", kind="ConfigMap", api="v1"), namespace="team-a")
    assert message == (
        'ownerRef [v1/ConfigMap, namespace: team-a, name: n-u, uid: u] does not exist in namespace "team-a"'
    )
