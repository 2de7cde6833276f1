"""Node IPAM, ServiceAccount, node lifecycle and taint eviction controllers end to end.

The node lifecycle scenario runs on a cluster created at speed 25, so the 50 s node-monitor
grace period lasts 2 s and the pods' 300 s default tolerations 12 s; the kubelet stand-in
renews Leases every 0.4 s (the kubelet's 10 s, scaled).
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubeviz.client import EVENTS, NODES, PODS, REPLICASETS, SERVICEACCOUNTS, APIStatusError, PatchType
from kubeviz.controllers.timestamps import format_time
from tests.conftest import LiveCluster, LiveServer
from tests.controlplane.conftest import Plane, running_plane
from tests.standin import wait_for
from tests.workloads import replicaset

SPEED = 25.0
UNREACHABLE = "node.kubernetes.io/unreachable"


@pytest.fixture
def fast_plane(kubeviz_server: LiveServer, tmp_path: Path) -> Iterator[Plane]:
    """Run a plane on a fresh cluster whose timings are divided by ``SPEED``."""
    name = "t-" + uuid.uuid4().hex[:10]
    resp = httpx.post(
        kubeviz_server.url + "/api/clusters",
        json={"name": name, "masters": 1, "workers": 2, "speed": SPEED, "addons": False},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    cfg = httpx.get(kubeviz_server.url + f"/api/clusters/{name}/kubeconfig", timeout=10)
    path = tmp_path / "kubeconfig"
    path.write_text(cfg.text)
    server = yaml.safe_load(cfg.text)["clusters"][0]["cluster"]["server"]
    cluster = LiveCluster(name=name, server=server, kubeconfig=path, base=kubeviz_server.url)
    try:
        with running_plane(cluster, kubeviz_server, lease_period=10.0 / SPEED) as plane:
            yield plane
    finally:
        httpx.delete(kubeviz_server.url + f"/api/clusters/{name}", timeout=30)


def condition(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in obj.get("status", {}).get("conditions") or [] if c["type"] == kind), {})


def events(plane: Plane, reason: str, *, kind: str) -> list[dict[str, Any]]:
    items = plane.client.list(EVENTS, namespace="default").items
    return [e for e in items if e["reason"] == reason and e["involvedObject"].get("kind") == kind]


# --- node IPAM --------------------------------------------------------------------------------


def test_every_node_gets_its_own_pod_cidr(plane):
    plane.kubelet.add_node("worker-3")

    def assigned() -> list[dict[str, Any]] | None:
        nodes = plane.client.list(NODES).items
        return nodes if len(nodes) == 4 and all(n["spec"].get("podCIDR") for n in nodes) else None

    nodes = wait_for(assigned, timeout=30, what="a podCIDR on all 4 nodes")
    cidrs = [n["spec"]["podCIDR"] for n in nodes]
    assert len(set(cidrs)) == 4
    cluster = ipaddress.ip_network("10.244.0.0/16")
    for node in nodes:
        subnet = ipaddress.ip_network(node["spec"]["podCIDR"])
        assert subnet.prefixlen == 24 and subnet.subnet_of(cluster)
        assert node["spec"]["podCIDRs"] == [node["spec"]["podCIDR"]]
    shown = plane.kubectl("get", "nodes", "-o", "jsonpath={.items[*].spec.podCIDR}").stdout.split()
    assert sorted(shown) == sorted(cidrs)


# --- ServiceAccount ---------------------------------------------------------------------------


def test_default_service_account_appears_and_comes_back(plane):
    plane.kubectl("create", "namespace", "team-a")

    def account() -> dict[str, Any] | None:
        try:
            return plane.client.get(SERVICEACCOUNTS, "default", namespace="team-a")
        except APIStatusError as exc:
            if exc.is_not_found():
                return None
            raise

    first = wait_for(account, timeout=30, what="the default ServiceAccount in team-a")
    plane.kubectl("delete", "serviceaccount", "default", "-n", "team-a")
    second = wait_for(
        lambda: (sa := account()) and sa["metadata"]["uid"] != first["metadata"]["uid"] and sa,
        timeout=30,
        what="the default ServiceAccount recreated",
    )
    assert second["metadata"]["name"] == "default"
    assert plane.kubectl("get", "serviceaccounts", "-n", "team-a", "-o", "name").stdout.split() == [
        "serviceaccount/default"
    ]


# --- node lifecycle and taint eviction --------------------------------------------------------


def prefers_worker_2(name: str, replicas: int) -> dict[str, Any]:
    affinity = {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "preference": {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": ["worker-2"]}
                        ]
                    },
                }
            ]
        }
    }
    return replicaset(name, replicas, pod_spec={"affinity": affinity})


def test_silent_node_goes_unknown_is_tainted_and_its_pods_move(fast_plane):
    plane = fast_plane
    plane.client.create(REPLICASETS, prefers_worker_2("web", 2))

    def running() -> list[dict[str, Any]] | None:
        pods = plane.client.list(PODS, namespace="default", label_selector="app=web").items
        ready = [p for p in pods if condition(p, "Ready").get("status") == "True"]
        return ready if len(ready) == 2 else None

    pods = wait_for(running, timeout=30, what="2 ready pods")
    doomed = {p["metadata"]["uid"] for p in pods if p["spec"]["nodeName"] == "worker-2"}
    assert doomed, "the scheduler should prefer worker-2"
    # The DefaultTolerationSeconds admission gave them 300 s on a not-ready or unreachable node.
    assert {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300} in (
        pods[0]["spec"]["tolerations"]
    )

    plane.kubelet.stop_node("worker-2")

    def unknown() -> dict[str, Any] | None:
        node = plane.client.get(NODES, "worker-2")
        taints = {(t["key"], t["effect"]) for t in node["spec"].get("taints") or []}
        gone = condition(node, "Ready").get("status") == "Unknown"
        return node if gone and {(UNREACHABLE, "NoExecute"), (UNREACHABLE, "NoSchedule")} <= taints else None

    node = wait_for(unknown, timeout=30, what="worker-2 Unknown and tainted unreachable")
    ready = condition(node, "Ready")
    assert ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    assert condition(node, "MemoryPressure")["status"] == "Unknown"
    node_events = wait_for(
        lambda: events(plane, "NodeNotReady", kind="Node"), timeout=10, what="a NodeNotReady event"
    )
    assert [e["message"] for e in node_events] == ["Node worker-2 status is now: NodeNotReady"]

    def marked_not_ready() -> bool:
        pods = plane.client.list(PODS, namespace="default", label_selector="app=web").items
        mine = [p for p in pods if p["metadata"]["uid"] in doomed]
        return all(condition(p, "Ready").get("status") == "False" for p in mine)

    wait_for(marked_not_ready, timeout=30, what="worker-2's pods marked not ready")
    pod_events = wait_for(lambda: events(plane, "NodeNotReady", kind="Pod"), timeout=10, what="pod events")
    assert {(e["type"], e["message"]) for e in pod_events} == {("Warning", "Node is not ready")}

    def moved() -> list[dict[str, Any]] | None:
        pods = plane.client.list(PODS, namespace="default", label_selector="app=web").items
        old = [p for p in pods if p["metadata"]["uid"] in doomed]
        if any(not p["metadata"].get("deletionTimestamp") for p in old):
            return None
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in live if condition(p, "Ready").get("status") == "True"]
        return live if len(ready) == 2 and all(p["spec"]["nodeName"] == "worker-1" for p in live) else None

    wait_for(moved, timeout=40, what="worker-2's pods evicted and replaced on worker-1")
    evicted = events(plane, "TaintManagerEviction", kind="Pod")
    assert evicted and all(e["message"].startswith("Marking for deletion Pod default/web-") for e in evicted)
    assert condition(plane.client.get(NODES, "worker-1"), "Ready")["status"] == "True"

    # The kubelet comes back and posts Ready again: the taints go.
    plane.kubelet.nodes["worker-2"] = True
    back = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": format_time(datetime.now(UTC)),
        "lastTransitionTime": format_time(datetime.now(UTC)),
    }
    conditions = [
        back if c["type"] == "Ready" else c
        for c in plane.client.get(NODES, "worker-2")["status"]["conditions"]
    ]
    plane.client.patch(
        NODES,
        "worker-2",
        {"status": {"conditions": conditions}},
        subresource="status",
        patch_type=PatchType.MERGE,
    )

    def untainted() -> bool:
        node = plane.client.get(NODES, "worker-2")
        return not any(t["key"] == UNREACHABLE for t in node["spec"].get("taints") or [])

    wait_for(untainted, timeout=30, what="worker-2's unreachable taints removed")
