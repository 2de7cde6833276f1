"""The EndpointSlice and Endpoints controllers end to end: a Deployment behind a Service.

kubectl creates the objects and scales them; the tests read back the EndpointSlices and the
Endpoints a user (or kube-proxy, or coredns) would see.
"""

from __future__ import annotations

from typing import Any

import yaml

from kubeviz.client import ENDPOINTS, ENDPOINTSLICES, PODS, SERVICES, PatchType
from tests.standin import wait_for

NS = "default"
SLICE_SELECTOR = "kubernetes.io/service-name=web"


def manifests(replicas: int) -> str:
    labels = {"app": "web"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "nginx:1.27",
                            "ports": [{"name": "http", "containerPort": 8080}],
                        }
                    ]
                },
            },
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": NS, "labels": {"tier": "front"}},
        "spec": {"selector": labels, "ports": [{"name": "web", "port": 80, "targetPort": "http"}]},
    }
    return yaml.safe_dump_all([deployment, service])


def pod_ips(plane) -> set[str]:
    pods = plane.client.list(PODS, namespace=NS, label_selector="app=web").items
    return {p["status"]["podIP"] for p in pods if p.get("status", {}).get("podIP")}


def slices(plane) -> list[dict[str, Any]]:
    return plane.client.list(ENDPOINTSLICES, namespace=NS, label_selector=SLICE_SELECTOR).items


def slice_endpoints(plane) -> dict[str, dict[str, Any]]:
    """Return the endpoints of the Service's slices by address."""
    return {ep["addresses"][0]: ep for s in slices(plane) for ep in s.get("endpoints") or []}


def endpoints(plane) -> dict[str, Any]:
    found = plane.kubectl("get", "endpoints", "web", "-n", NS, "-o", "json", check=False)
    return yaml.safe_load(found.stdout) if found.returncode == 0 else {}


def addresses(ep: dict[str, Any], field: str = "addresses") -> set[str]:
    return {a["ip"] for subset in ep.get("subsets") or [] for a in subset.get(field) or []}


def deploy(plane, replicas: int) -> set[str]:
    plane.kubectl("apply", "-f", "-", input=manifests(replicas))

    def ready_ips() -> set[str] | None:
        ips = pod_ips(plane)
        return ips if len(ips) == replicas else None

    return wait_for(ready_ips, timeout=30, what=f"{replicas} pods with IPs")


def test_slices_and_endpoints_list_ready_pods_with_named_ports(plane):
    ips = deploy(plane, 3)

    def sliced() -> list[dict[str, Any]] | None:
        found = slice_endpoints(plane)
        ready = {ip for ip, ep in found.items() if ep["conditions"]["ready"]}
        return slices(plane) if ready == ips and set(found) == ips else None

    found = wait_for(sliced, timeout=30, what="an EndpointSlice with the 3 ready pods")
    assert len(found) == 1
    endpoint_slice = found[0]
    meta = endpoint_slice["metadata"]
    assert meta["name"].startswith("web-")
    assert meta["labels"] == {
        "tier": "front",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    service = plane.client.get(SERVICES, "web", namespace=NS)
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "name": "web",
            "uid": service["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert "endpoints.kubernetes.io/last-change-trigger-time" in meta["annotations"]
    assert endpoint_slice["addressType"] == "IPv4"
    # The Service's targetPort names the container port: each endpoint serves 8080, named as the Service port.
    assert endpoint_slice["ports"] == [{"name": "web", "port": 8080, "protocol": "TCP"}]
    for ep in endpoint_slice["endpoints"]:
        assert ep["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert ep["nodeName"].startswith("worker-")
        assert ep["targetRef"]["kind"] == "Pod" and ep["targetRef"]["name"].startswith("web-")

    def listed() -> dict[str, Any] | None:
        ep = endpoints(plane)
        return ep if addresses(ep) == ips else None

    ep = wait_for(listed, timeout=30, what="Endpoints with the 3 ready pods")
    assert ep["metadata"]["labels"] == {
        "tier": "front",
        "endpoints.kubernetes.io/managed-by": "endpoint-controller",
    }
    assert "endpoints.kubernetes.io/last-change-trigger-time" in ep["metadata"]["annotations"]
    assert [s["ports"] for s in ep["subsets"]] == [[{"name": "web", "port": 8080, "protocol": "TCP"}]]
    assert not addresses(ep, "notReadyAddresses")
    # The kubernetes Service has no selector: its Endpoints are the apiserver's business, not ours.
    kubernetes = plane.kubectl("get", "endpoints", "kubernetes", "-n", NS, "-o", "json", check=False)
    if kubernetes.returncode == 0:
        labels = yaml.safe_load(kubernetes.stdout)["metadata"].get("labels") or {}
        assert "endpoints.kubernetes.io/managed-by" not in labels


def test_a_pod_that_is_not_ready_is_listed_as_not_ready(plane):
    ips = deploy(plane, 2)
    wait_for(lambda: set(slice_endpoints(plane)) == ips, timeout=30, what="both pods in the slice")
    pod = plane.client.list(PODS, namespace=NS, label_selector="app=web").items[0]
    ip = pod["status"]["podIP"]
    conditions = [
        {**c, "status": "False"} if c["type"] in ("Ready", "ContainersReady") else c
        for c in pod["status"]["conditions"]
    ]
    plane.client.patch(
        PODS,
        pod["metadata"]["name"],
        {"status": {"conditions": conditions}},
        namespace=NS,
        subresource="status",
        patch_type=PatchType.MERGE,
    )

    def not_ready() -> dict[str, Any] | None:
        ep = slice_endpoints(plane).get(ip)
        return ep if ep and not ep["conditions"]["ready"] else None

    ep = wait_for(not_ready, timeout=30, what="the pod's endpoint marked not ready")
    assert ep["conditions"] == {"ready": False, "serving": False, "terminating": False}
    assert len(slice_endpoints(plane)) == 2  # still listed, only not ready

    def moved() -> dict[str, Any] | None:
        found = endpoints(plane)
        return found if addresses(found, "notReadyAddresses") == {ip} else None

    found = wait_for(moved, timeout=30, what="the pod in notReadyAddresses")
    assert addresses(found) == ips - {ip}
    assert len(found["subsets"]) == 1  # ready and not-ready addresses share the subset of their ports


def test_scale_down_removes_endpoints(plane):
    ips = deploy(plane, 3)
    wait_for(lambda: set(slice_endpoints(plane)) == ips, timeout=30, what="3 endpoints")
    plane.kubectl("scale", "deployment/web", "-n", NS, "--replicas=1")

    def shrunk() -> set[str] | None:
        left = pod_ips(plane)
        return left if len(left) == 1 and set(slice_endpoints(plane)) == left else None

    left = wait_for(shrunk, timeout=30, what="one endpoint left in the slices")
    assert len(slices(plane)) == 1  # the slice was updated in place, not replaced
    wait_for(
        lambda: addresses(endpoints(plane)) == left, timeout=30, what="one address left in the Endpoints"
    )
    assert plane.client.get(ENDPOINTS, "web", namespace=NS)["subsets"][0]["addresses"][0]["ip"] in left
