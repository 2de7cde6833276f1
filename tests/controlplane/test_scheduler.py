"""kube-scheduler end to end: binding, the Scheduled and FailedScheduling events, the decision record."""

from __future__ import annotations

import httpx
import pytest

from kubeviz.client import EVENTS, PODS
from tests.controlplane.conftest import running_plane
from tests.standin import wait_for


def pod(
    name: str, *, cpu: str = "100m", node_selector: dict | None = None, tolerate_masters: bool = False
) -> dict:
    spec: dict = {
        "containers": [{"name": "c", "image": "nginx:1.27", "resources": {"requests": {"cpu": cpu}}}]
    }
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerate_masters:
        spec["tolerations"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def events_for(plane, name: str) -> list[dict]:
    items = plane.client.list(EVENTS, namespace="default", field_selector=f"involvedObject.name={name}").items
    return items


def test_pod_is_bound_with_a_scheduled_event_and_a_recorded_decision(plane):
    plane.client.create(PODS, pod("one"))
    bound = wait_for(
        lambda: plane.client.get(PODS, "one", namespace="default")["spec"].get("nodeName"), what="binding"
    )
    assert bound in {"worker-1", "worker-2"}
    got = plane.client.get(PODS, "one", namespace="default")
    scheduled = [c for c in got["status"]["conditions"] if c["type"] == "PodScheduled"]
    assert scheduled and scheduled[0]["status"] == "True"
    event = wait_for(
        lambda: [e for e in events_for(plane, "one") if e["reason"] == "Scheduled"], what="event"
    )[0]
    assert event["message"] == f"Successfully assigned default/one to {bound}"
    assert event["source"]["component"] == "default-scheduler"

    url = f"{plane.cluster.base}/api/clusters/{plane.cluster.name}/scheduling/default/one"
    decision = httpx.get(url, timeout=10).json()
    assert decision["selectedNode"] == bound and decision["bound"] is True
    assert decision["nodesEvaluated"] == 3
    assert set(decision["filters"]) == {"master-1"}  # only what failed is listed
    taint = decision["filters"]["master-1"]["TaintToleration"]
    assert taint["code"] == "UnschedulableAndUnresolvable"
    assert taint["reasons"] == ["node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"]
    assert set(decision["feasibleNodes"]) == {"worker-1", "worker-2"}
    raw, normalized = decision["scores"][bound]["NodeResourcesFit"]
    assert 0 <= normalized <= 100 and decision["scoreWeights"]["NodeResourcesFit"] == 1
    assert decision["totals"][bound] == max(decision["totals"].values())
    missing = httpx.get(url.replace("/one", "/nobody"), timeout=10)
    assert missing.status_code == 404 and missing.json()["reason"] == "NotFound"


def test_pod_that_fits_nowhere_waits_then_lands_on_a_new_node(plane):
    plane.client.create(PODS, pod("big", cpu="6"))
    event = wait_for(
        lambda: [e for e in events_for(plane, "big") if e["reason"] == "FailedScheduling"],
        what="FailedScheduling",
    )[0]
    assert event["type"] == "Warning"
    assert event["message"] == (
        "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, "
        # A request above any node's allocatable cannot be helped by preemption; upstream's
        # message really does end in two full stops.
        "2 Insufficient cpu. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.."
    )
    got = plane.client.get(PODS, "big", namespace="default")
    assert got["status"]["phase"] == "Pending" and not got["spec"].get("nodeName")
    cond = next(c for c in got["status"]["conditions"] if c["type"] == "PodScheduled")
    assert (cond["status"], cond["reason"]) == ("False", "Unschedulable")
    describe = plane.kubectl("describe", "pod", "big").stdout
    assert "FailedScheduling" in describe and "Insufficient cpu" in describe

    plane.kubelet.add_node("worker-3", cpu="8")
    assert (
        wait_for(
            lambda: plane.client.get(PODS, "big", namespace="default")["spec"].get("nodeName"),
            timeout=60,
            what="rescheduling",
        )
        == "worker-3"
    )


@pytest.fixture
def nodeless_plane(cluster, kubeviz_server):
    with running_plane(cluster, kubeviz_server, masters=0, workers=0) as p:
        yield p


def test_a_cluster_without_nodes_says_so(nodeless_plane):
    plane = nodeless_plane
    plane.client.create(PODS, pod("lonely"))
    event = wait_for(
        lambda: [e for e in events_for(plane, "lonely") if e["reason"] == "FailedScheduling"], what="event"
    )[0]
    assert event["message"] == "no nodes available to schedule pods"
    plane.kubelet.add_node("worker-1")
    assert (
        wait_for(
            lambda: plane.client.get(PODS, "lonely", namespace="default")["spec"].get("nodeName"),
            what="binding",
        )
        == "worker-1"
    )


def test_node_selector_and_tolerations_steer_pods(plane):
    plane.client.create(
        PODS, pod("on-master", node_selector={"kubernetes.io/hostname": "master-1"}, tolerate_masters=True)
    )
    plane.client.create(PODS, pod("on-w2", node_selector={"kubernetes.io/hostname": "worker-2"}))
    for name, node in (("on-master", "master-1"), ("on-w2", "worker-2")):
        assert (
            wait_for(
                lambda name=name: plane.client.get(PODS, name, namespace="default")["spec"].get("nodeName"),
                what=name,
            )
            == node
        )


def test_many_pods_spread_without_overcommitting(plane):
    # 4 CPU per worker and 1 CPU per pod: exactly 8 fit on the two workers; the ninth must wait.
    for i in range(9):
        plane.client.create(PODS, pod(f"p{i}", cpu="1"))

    def placed():
        pods = plane.client.list(PODS, namespace="default").items
        bound = [p for p in pods if p["spec"].get("nodeName")]
        return len(bound) == 8 and pods

    pods = wait_for(placed, what="8 bound pods")
    per_node = {}
    for p in pods:
        if p["spec"].get("nodeName"):
            per_node[p["spec"]["nodeName"]] = per_node.get(p["spec"]["nodeName"], 0) + 1
    assert per_node == {"worker-1": 4, "worker-2": 4}
    wait_for(
        lambda: any(
            e["reason"] == "FailedScheduling"
            for p in pods
            if not p["spec"].get("nodeName")
            for e in events_for(plane, p["metadata"]["name"])
        ),
        what="FailedScheduling for the ninth",
    )
