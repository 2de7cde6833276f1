"""The garbage collector end to end: kubectl's three cascade modes and dangling owners."""

from __future__ import annotations

import uuid

import pytest

from kubeviz.client import CONFIGMAPS, DEPLOYMENTS, EVENTS, NAMESPACES, PODS, REPLICASETS, APIStatusError
from kubeviz.controllers.registry import CONTROLLERS
from tests.standin import wait_for
from tests.workloads import replicaset

HOLD = "kubeviz.test/hold"


def gone(client, resource, name: str) -> bool:
    try:
        client.get(resource, name, namespace="default")
    except APIStatusError as exc:
        return exc.is_not_found()
    return False


def pods_of(plane, app: str) -> list[dict]:
    return plane.client.list(PODS, namespace="default", label_selector=f"app={app}").items


def ready_replicaset(plane, name: str) -> dict:
    plane.client.create(REPLICASETS, replicaset(name))

    def ready():
        rs = plane.client.get(REPLICASETS, name, namespace="default")
        return rs.get("status", {}).get("readyReplicas") == 3 and rs

    return wait_for(ready, timeout=30, what=f"3 ready pods of {name}")


def test_background_delete_removes_the_pods(plane):
    ready_replicaset(plane, "bg")
    plane.kubectl("delete", "rs", "bg", "-n", "default")
    assert gone(plane.client, REPLICASETS, "bg")
    wait_for(lambda: not pods_of(plane, "bg"), timeout=30, what="the pods of a deleted ReplicaSet to go")


def test_foreground_delete_waits_for_the_pods(plane):
    rs = ready_replicaset(plane, "fg")
    held = pods_of(plane, "fg")[0]["metadata"]["name"]
    # A finalizer of our own keeps one pod, and so the ReplicaSet, from going.
    plane.client.patch(PODS, held, {"metadata": {"finalizers": [HOLD]}}, namespace="default")
    plane.kubectl("delete", "rs", "fg", "-n", "default", "--cascade=foreground", "--wait=false")

    def only_held_pod_left():
        pods = pods_of(plane, "fg")
        return len(pods) == 1 and pods[0]["metadata"].get("deletionTimestamp") and pods

    wait_for(only_held_pod_left, timeout=30, what="every pod but the held one to go")
    waiting = plane.client.get(REPLICASETS, "fg", namespace="default")
    assert waiting["metadata"]["uid"] == rs["metadata"]["uid"]
    assert waiting["metadata"]["deletionTimestamp"]
    assert waiting["metadata"]["finalizers"] == ["foregroundDeletion"]

    plane.client.patch(PODS, held, {"metadata": {"finalizers": None}}, namespace="default")
    wait_for(lambda: gone(plane.client, REPLICASETS, "fg"), timeout=30, what="the ReplicaSet to go last")
    assert not pods_of(plane, "fg")


def test_orphan_delete_leaves_the_pods_without_owner(plane):
    ready_replicaset(plane, "or")
    names = sorted(p["metadata"]["name"] for p in pods_of(plane, "or"))
    plane.kubectl("delete", "rs", "or", "-n", "default", "--cascade=orphan", "--timeout=30s")
    assert gone(plane.client, REPLICASETS, "or")
    pods = pods_of(plane, "or")
    assert sorted(p["metadata"]["name"] for p in pods) == names
    assert all(not p["metadata"].get("ownerReferences") for p in pods)
    assert all(not p["metadata"].get("deletionTimestamp") for p in pods)
    assert all(p["status"]["phase"] == "Running" for p in pods)


def configmap(name: str, owners: list[dict]) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "default", "ownerReferences": owners},
        "data": {"k": "v"},
    }


def ghost_reference() -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "name": "ghost", "uid": str(uuid.uuid4())}


def test_dependent_of_an_owner_that_never_existed_is_deleted(plane):
    plane.client.create(CONFIGMAPS, configmap("orphaned", [ghost_reference()]))
    wait_for(
        lambda: gone(plane.client, CONFIGMAPS, "orphaned"), timeout=30, what="the ConfigMap to be collected"
    )


def test_dangling_reference_is_dropped_while_another_owner_remains(plane):
    owner = plane.client.create(CONFIGMAPS, configmap("owner", []))
    real = {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner["metadata"]["uid"]}
    plane.client.create(CONFIGMAPS, configmap("shared", [real, ghost_reference()]))

    def only_real_owner():
        cm = plane.client.get(CONFIGMAPS, "shared", namespace="default")
        return cm["metadata"].get("ownerReferences") == [real] and cm

    wait_for(only_real_owner, timeout=30, what="the dangling reference to be patched away")
    plane.client.delete(CONFIGMAPS, "owner", namespace="default")
    wait_for(lambda: gone(plane.client, CONFIGMAPS, "shared"), timeout=30, what="the last dependent to go")


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_deleting_a_deployment_removes_its_replicasets_and_pods(plane, cascade):
    if "deployment" not in CONTROLLERS:
        pytest.skip("the Deployment controller is not registered")
    labels = {"app": "dep"}
    plane.client.create(
        DEPLOYMENTS,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "dep", "namespace": "default"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        },
    )
    wait_for(lambda: len(pods_of(plane, "dep")) == 2, timeout=30, what="the Deployment's pods")
    # kubectl waits for the Deployment itself to go; in the foreground that is the last step.
    plane.kubectl("delete", "deployment", "dep", "-n", "default", f"--cascade={cascade}", "--timeout=30s")
    assert gone(plane.client, DEPLOYMENTS, "dep")

    def all_gone():
        rs = plane.client.list(REPLICASETS, namespace="default", label_selector="app=dep").items
        return not rs and not pods_of(plane, "dep")

    if cascade == "foreground":
        assert all_gone()

    wait_for(all_gone, timeout=30, what="the ReplicaSets and pods of a deleted Deployment to go")


def test_owner_in_another_namespace_counts_as_absent_and_is_reported(plane):
    owner = plane.client.create(CONFIGMAPS, configmap("elsewhere", []))
    plane.client.create(NAMESPACES, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
    foreign = {"apiVersion": "v1", "kind": "ConfigMap", "name": "elsewhere", "uid": owner["metadata"]["uid"]}
    plane.client.create(
        CONFIGMAPS,
        {
            **configmap("cross", [foreign]),
            "metadata": {"name": "cross", "namespace": "team-a", "ownerReferences": [foreign]},
        },
    )

    def cross_gone():
        try:
            plane.client.get(CONFIGMAPS, "cross", namespace="team-a")
        except APIStatusError as exc:
            return exc.is_not_found()
        return False

    wait_for(cross_gone, timeout=30, what="the dependent with a cross-namespace owner to be collected")
    events = plane.client.list(
        EVENTS, namespace="team-a", field_selector="reason=OwnerRefInvalidNamespace"
    ).items
    assert [e["involvedObject"]["name"] for e in events] == ["cross"]
    assert events[0]["type"] == "Warning"
    assert events[0]["source"]["component"] == "garbage-collector-controller"
    assert not gone(plane.client, CONFIGMAPS, "elsewhere")
