"""The REST client against the real apiserver (Daphne + Redis): verbs, patches, errors, identity."""

from __future__ import annotations

import httpx
import pytest

from kubeviz.client import (
    CONFIGMAPS,
    DEPLOYMENTS,
    PODS,
    APIStatusError,
    Client,
    PatchType,
    Preconditions,
    PropagationPolicy,
    labels,
)
from tests.conftest import LiveCluster

pytestmark = pytest.mark.live


@pytest.fixture
def kube(cluster: LiveCluster) -> Client:
    with Client(cluster.server, component="kube-controller-manager", name="deployment-controller") as client:
        yield client


def deployment(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default", "labels": {"app": name}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.27"},
                        {"name": "log", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


def test_crud_round_trip_with_every_patch_type(kube: Client) -> None:
    made = kube.create(
        CONFIGMAPS,
        {"metadata": {"name": "rt", "namespace": "default", "labels": {"t": "1"}}, "data": {"a": "1"}},
    )
    assert made["metadata"]["uid"] and kube.get(CONFIGMAPS, "rt", namespace="default")["data"] == {"a": "1"}
    listed = kube.list(CONFIGMAPS, namespace="default", label_selector=labels.parse("t=1"))
    assert [o["metadata"]["name"] for o in listed.items] == ["rt"] and int(listed.resource_version) >= int(
        made["metadata"]["resourceVersion"]
    )
    updated = kube.update(CONFIGMAPS, dict(made, data={"a": "2"}))
    assert updated["data"] == {"a": "2"}
    merged = kube.patch(CONFIGMAPS, "rt", {"data": {"b": "3"}}, namespace="default")
    assert merged["data"] == {"a": "2", "b": "3"}
    jsonp = kube.patch(
        CONFIGMAPS,
        "rt",
        [{"op": "remove", "path": "/data/a"}],
        namespace="default",
        patch_type=PatchType.JSON,
    )
    assert jsonp["data"] == {"b": "3"}

    kube.create(DEPLOYMENTS, deployment("web"))
    smp = {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.28"}]}}}}
    dep = kube.patch(DEPLOYMENTS, "web", smp, namespace="default", patch_type=PatchType.STRATEGIC)
    containers = {c["name"]: c["image"] for c in dep["spec"]["template"]["spec"]["containers"]}
    assert containers == {"web": "nginx:1.28", "log": "busybox:1.36"}, (
        "a strategic patch merges lists by name"
    )

    # Server-side apply creates a missing object, then guards each manager's fields.
    applied = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "ap", "namespace": "default"},
        "data": {"b": "4"},
    }
    out = kube.apply(CONFIGMAPS, applied, field_manager="owner-a")
    assert out["data"] == {"b": "4"}
    assert "owner-a" in [m["manager"] for m in out["metadata"]["managedFields"]]
    with pytest.raises(APIStatusError) as err:
        kube.apply(CONFIGMAPS, dict(applied, data={"b": "5"}), field_manager="owner-b")
    assert err.value.is_conflict() and err.value.code == 409
    assert (
        kube.apply(CONFIGMAPS, dict(applied, data={"b": "5"}), field_manager="owner-b", force=True)["data"][
            "b"
        ]
        == "5"
    )

    status = kube.delete(CONFIGMAPS, "rt", namespace="default")
    assert status["kind"] == "Status" and status["status"] == "Success"
    with pytest.raises(APIStatusError) as err:
        kube.get(CONFIGMAPS, "rt", namespace="default")
    assert err.value.is_not_found()


def test_errors_carry_the_kubernetes_status(kube: Client) -> None:
    with pytest.raises(APIStatusError) as err:
        kube.get(CONFIGMAPS, "missing", namespace="default")
    assert (err.value.code, err.value.reason, err.value.details.get("name")) == (404, "NotFound", "missing")
    made = kube.create(CONFIGMAPS, {"metadata": {"name": "one"}}, namespace="default")
    with pytest.raises(APIStatusError) as err:
        kube.create(CONFIGMAPS, {"metadata": {"name": "one"}}, namespace="default")
    assert err.value.is_already_exists() and not err.value.is_conflict() and err.value.code == 409
    kube.update(CONFIGMAPS, dict(made, data={"k": "1"}))
    with pytest.raises(APIStatusError) as err:
        kube.update(CONFIGMAPS, dict(made, data={"k": "2"}))  # still the first resourceVersion
    assert err.value.is_conflict() and err.value.reason == "Conflict"
    with pytest.raises(APIStatusError) as err:
        kube.create(CONFIGMAPS, {"metadata": {"name": "Bad_Name"}}, namespace="default")
    assert err.value.is_invalid() and err.value.code == 422 and err.value.details["causes"]
    with pytest.raises(APIStatusError) as err:
        kube.delete(CONFIGMAPS, "one", namespace="default", preconditions=Preconditions(uid="not-the-uid"))
    assert err.value.is_conflict() and "Precondition" in err.value.message


def test_subresources_scale_status_binding_and_foreground_delete(kube: Client) -> None:
    kube.create(DEPLOYMENTS, deployment("sc"))
    scale = kube.scale(DEPLOYMENTS, "sc", replicas=4, namespace="default")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4
    dep = kube.get(DEPLOYMENTS, "sc", namespace="default")
    assert dep["spec"]["replicas"] == 4
    dep["status"] = {"replicas": 3, "observedGeneration": dep["metadata"]["generation"]}
    assert kube.update_status(DEPLOYMENTS, dep)["status"]["replicas"] == 3

    pod = {"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    made = kube.create(PODS, pod, namespace="default")
    kube.bind(namespace="default", pod="p1", node="node-a", uid=made["metadata"]["uid"])
    assert kube.get(PODS, "p1", namespace="default")["spec"]["nodeName"] == "node-a"
    with pytest.raises(APIStatusError) as err:
        kube.bind(namespace="default", pod="p1", node="node-b")
    assert err.value.is_conflict()

    held = kube.delete(
        DEPLOYMENTS, "sc", namespace="default", propagation_policy=PropagationPolicy.FOREGROUND
    )
    assert held["metadata"]["finalizers"] == ["foregroundDeletion"] and held["metadata"]["deletionTimestamp"]


def test_list_all_follows_continue_tokens(kube: Client) -> None:
    for i in range(5):
        kube.create(
            CONFIGMAPS, {"metadata": {"name": f"p{i}", "labels": {"paged": "yes"}}}, namespace="default"
        )
    first = kube.list(CONFIGMAPS, namespace="default", label_selector="paged=yes", limit=2)
    assert len(first.items) == 2 and first.continue_token
    every = kube.list_all(CONFIGMAPS, namespace="default", label_selector="paged=yes", page_size=2)
    assert [o["metadata"]["name"] for o in every.items] == [f"p{i}" for i in range(5)]
    assert every.resource_version == first.resource_version or int(every.resource_version) >= int(
        first.resource_version
    )


def test_the_user_agent_names_the_component(kube: Client, cluster: LiveCluster) -> None:
    with pytest.raises(APIStatusError):
        kube.get(CONFIGMAPS, "traced", namespace="default")
    items = httpx.get(f"{cluster.base}/api/clusters/{cluster.name}/requests?limit=5", timeout=10).json()[
        "items"
    ]
    newest = items[0]
    assert (newest["component"], newest["verb"], newest["name"], newest["code"]) == (
        "kube-controller-manager",
        "get",
        "traced",
        "404",
    )
    assert (
        newest["user_agent"] == "kube-controller-manager/v1.36.0 (linux/amd64) kubeviz/deployment-controller"
    )
