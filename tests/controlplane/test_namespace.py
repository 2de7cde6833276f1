"""The namespace controller end to end: ``kubectl delete namespace`` empties and removes it."""

from __future__ import annotations

from kubeviz.client import CONFIGMAPS, NAMESPACES, PODS, REPLICASETS, SERVICES, APIStatusError
from kubeviz.controllers.namespace import helpers
from tests.standin import wait_for


def namespace(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def replicaset(name: str, ns: str) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def fill(plane, ns: str) -> None:
    """Create a namespace holding a ReplicaSet with running pods, a bare pod, a ConfigMap and a Service."""
    plane.client.create(NAMESPACES, namespace(ns))
    plane.client.create(REPLICASETS, replicaset("web", ns))
    plane.client.create(
        PODS,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "bare", "namespace": ns},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        },
    )
    plane.client.create(
        CONFIGMAPS, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": ns}}
    )
    plane.client.create(
        SERVICES,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "web", "namespace": ns},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
        },
    )

    def running():
        pods = plane.client.list(PODS, namespace=ns).items
        return len(pods) == 3 and all(p.get("status", {}).get("phase") == "Running" for p in pods)

    wait_for(running, timeout=30, what="three running pods")


def gone(plane, ns: str) -> bool:
    try:
        plane.client.get(NAMESPACES, ns)
    except APIStatusError as exc:
        return exc.is_not_found()
    return False


def test_kubectl_delete_namespace_removes_its_content_and_the_namespace(plane):
    fill(plane, "doomed")
    # kubectl waits until the namespace is gone, so returning is the proof.
    plane.kubectl("delete", "namespace", "doomed", "--timeout=50s", timeout=60)
    assert gone(plane, "doomed")
    for resource in (PODS, REPLICASETS, CONFIGMAPS, SERVICES):
        assert plane.client.list(resource, namespace="doomed").items == []


def test_terminating_namespace_reports_its_conditions_and_refuses_new_content(plane):
    plane.client.create(NAMESPACES, namespace("held"))
    plane.client.create(
        CONFIGMAPS,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "pinned", "namespace": "held", "finalizers": ["kubeviz.test/hold"]},
        },
    )
    plane.kubectl("delete", "namespace", "held", "--wait=false")

    def conditions():
        ns = plane.client.get(NAMESPACES, "held")
        found = {c["type"]: c for c in ns.get("status", {}).get("conditions") or []}
        return len(found) == 5 and (ns, found)

    ns, found = wait_for(conditions, timeout=30, what="the deletion conditions")
    assert ns["status"]["phase"] == "Terminating"
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    remaining = found[helpers.CONTENT_REMAINING]
    assert (remaining["status"], remaining["reason"]) == ("True", "SomeResourcesRemain")
    assert remaining["message"] == "Some resources are remaining: configmaps. has 1 resource instances"
    finalizers = found[helpers.FINALIZERS_REMAINING]
    assert (finalizers["status"], finalizers["reason"]) == ("True", "SomeFinalizerRemain")
    assert finalizers["message"] == "Some finalizers are remaining: kubeviz.test/hold in 1 resource instances"
    ok = found[helpers.CONTENT_FAILURE]
    assert (ok["status"], ok["reason"]) == ("False", "ContentDeleted")

    refused = plane.kubectl("create", "configmap", "late", "-n", "held", check=False)
    assert refused.returncode != 0
    assert "because it is being terminated" in refused.stderr

    plane.client.patch(CONFIGMAPS, "pinned", {"metadata": {"finalizers": None}}, namespace="held")
    wait_for(lambda: gone(plane, "held"), timeout=30, what="the namespace to go once it is empty")
