from __future__ import annotations

import json

from kubeviz.client import CONTROLLERREVISIONS, DAEMONSETS, PODS
from tests.standin import wait_for

CONTROL_PLANE_TOLERATION = {
    "key": "node-role.kubernetes.io/control-plane",
    "operator": "Exists",
    "effect": "NoSchedule",
}


def daemonset(name: str, *, image: str = "fluentd:v1", **pod_spec: object) -> dict:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "agent", "image": image}], **pod_spec},
            },
        },
    }


def pods_of(plane, name: str) -> list[dict]:
    pods = plane.client.list(PODS, namespace="default", label_selector=f"app={name}").items
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def nodes_of(plane, name: str) -> list[str]:
    return sorted(p["spec"].get("nodeName") or "" for p in pods_of(plane, name))


def ready_on(plane, name: str, nodes: list[str]):
    def check():
        ds = plane.client.get(DAEMONSETS, name, namespace="default")
        st = ds.get("status", {})
        done = (
            st.get("numberReady") == len(nodes)
            and st.get("desiredNumberScheduled") == len(nodes)
            and nodes_of(plane, name) == nodes
        )
        return done and ds

    return wait_for(check, timeout=30, what=f"{name} ready on {nodes}")


def test_one_pod_per_worker_pinned_by_affinity_with_daemon_tolerations(plane):
    plane.client.create(DAEMONSETS, daemonset("agent"))
    ds = ready_on(plane, "agent", ["worker-1", "worker-2"])
    st = ds["status"]
    assert st["currentNumberScheduled"] == 2 and st["numberMisscheduled"] == 0
    assert st["numberAvailable"] == 2 and st["updatedNumberScheduled"] == 2
    assert "numberUnavailable" not in st  # zero: dropped from JSON as upstream's omitempty does
    assert st["observedGeneration"] == ds["metadata"]["generation"]
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "1"

    revisions = plane.client.list(CONTROLLERREVISIONS, namespace="default", label_selector="app=agent").items
    assert len(revisions) == 1
    revision = revisions[0]
    hash_ = revision["metadata"]["labels"]["controller-revision-hash"]
    assert revision["metadata"]["name"] == f"agent-{hash_}" and revision["revision"] == 1
    assert revision["data"]["spec"]["template"]["$patch"] == "replace"

    for pod in pods_of(plane, "agent"):
        assert pod["metadata"]["generateName"] == "agent-"
        assert pod["metadata"]["labels"]["controller-revision-hash"] == hash_
        assert pod["metadata"]["labels"]["pod-template-generation"] == "1"
        terms = pod["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms["nodeSelectorTerms"] == [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [pod["spec"]["nodeName"]]}]}
        ]
        tolerations = {(t["key"], t["effect"]): t for t in pod["spec"]["tolerations"]}
        for key in ("not-ready", "unreachable"):
            assert "tolerationSeconds" not in tolerations[(f"node.kubernetes.io/{key}", "NoExecute")]
        for key in ("disk-pressure", "memory-pressure", "pid-pressure", "unschedulable"):
            assert (f"node.kubernetes.io/{key}", "NoSchedule") in tolerations
        assert ("node.kubernetes.io/network-unavailable", "NoSchedule") not in tolerations


def test_control_plane_toleration_adds_master_and_host_network_tolerates_no_network(plane):
    plane.client.create(
        DAEMONSETS, daemonset("cni", tolerations=[CONTROL_PLANE_TOLERATION], hostNetwork=True)
    )
    ready_on(plane, "cni", ["master-1", "worker-1", "worker-2"])
    for pod in pods_of(plane, "cni"):
        keys = {t["key"] for t in pod["spec"]["tolerations"]}
        assert {"node-role.kubernetes.io/control-plane", "node.kubernetes.io/network-unavailable"} <= keys


def test_node_added_later_gets_a_pod(plane):
    plane.client.create(DAEMONSETS, daemonset("agent"))
    ready_on(plane, "agent", ["worker-1", "worker-2"])
    plane.kubelet.add_node("worker-3")
    ready_on(plane, "agent", ["worker-1", "worker-2", "worker-3"])


def test_node_selector_limits_nodes_and_relabelling_moves_the_daemon(plane):
    plane.kubectl("label", "node", "worker-2", "disk=ssd")
    plane.client.create(DAEMONSETS, daemonset("ssd", nodeSelector={"disk": "ssd"}))
    ready_on(plane, "ssd", ["worker-2"])
    plane.kubectl("label", "node", "worker-1", "disk=ssd")
    plane.kubectl("label", "node", "worker-2", "disk-")
    ready_on(plane, "ssd", ["worker-1"])


def test_rollout_status_and_image_change_rolls_every_pod(plane):
    plane.client.create(DAEMONSETS, daemonset("agent"))
    out = plane.kubectl("rollout", "status", "daemonset/agent", "--timeout=30s").stdout
    assert 'daemon set "agent" successfully rolled out' in out
    before = {p["metadata"]["name"] for p in pods_of(plane, "agent")}
    assert len(before) == 2

    plane.kubectl("set", "image", "daemonset/agent", "agent=fluentd:v2")
    out = plane.kubectl("rollout", "status", "daemonset/agent", "--timeout=30s").stdout
    assert 'daemon set "agent" successfully rolled out' in out

    def rolled():
        pods = pods_of(plane, "agent")
        images = [p["spec"]["containers"][0]["image"] for p in pods]
        return len(pods) == 2 and images == ["fluentd:v2"] * 2 and pods

    pods = wait_for(rolled, timeout=30, what="both pods on the new image")
    assert not before & {p["metadata"]["name"] for p in pods}
    assert {p["metadata"]["labels"]["pod-template-generation"] for p in pods} == {"2"}
    ds = plane.client.get(DAEMONSETS, "agent", namespace="default")
    assert ds["status"]["updatedNumberScheduled"] == 2
    assert ds["metadata"]["annotations"]["deprecated.daemonset.template.generation"] == "2"
    history = plane.kubectl("rollout", "history", "daemonset/agent").stdout
    assert "1" in history and "2" in history
    revisions = plane.client.list(CONTROLLERREVISIONS, namespace="default", label_selector="app=agent").items
    assert sorted(r["revision"] for r in revisions) == [1, 2]
    first = next(r for r in revisions if r["revision"] == 1)

    # Undo brings the first template back: its revision is reused, renumbered as the newest.
    plane.kubectl("rollout", "undo", "daemonset/agent")
    plane.kubectl("rollout", "status", "daemonset/agent", "--timeout=30s")

    def undone():
        pods = pods_of(plane, "agent")
        return (
            len(pods) == 2 and all(p["spec"]["containers"][0]["image"] == "fluentd:v1" for p in pods) and pods
        )

    pods = wait_for(undone, timeout=30, what="both pods back on the first image")
    hash_ = first["metadata"]["labels"]["controller-revision-hash"]
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods} == {hash_}
    assert (
        plane.client.get(CONTROLLERREVISIONS, first["metadata"]["name"], namespace="default")["revision"] == 3
    )


def test_on_delete_waits_for_manual_deletion(plane):
    body = daemonset("agent")
    body["spec"]["updateStrategy"] = {"type": "OnDelete"}
    plane.client.create(DAEMONSETS, body)
    ready_on(plane, "agent", ["worker-1", "worker-2"])
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "fluentd:v2"}]}}}}
    plane.kubectl("patch", "daemonset", "agent", "-p", json.dumps(patch))

    def observed():
        ds = plane.client.get(DAEMONSETS, "agent", namespace="default")
        st = ds["status"]
        return (
            st.get("observedGeneration") == ds["metadata"]["generation"] and st.get("numberReady") == 2 and st
        )

    st = wait_for(observed, timeout=30, what="the new template observed")
    assert "updatedNumberScheduled" not in st  # zero: nothing is replaced on its own
    victim = next(p for p in pods_of(plane, "agent") if p["spec"]["nodeName"] == "worker-1")
    plane.kubectl("delete", "pod", victim["metadata"]["name"])

    def replaced():
        pods = {
            p["spec"].get("nodeName"): p["spec"]["containers"][0]["image"] for p in pods_of(plane, "agent")
        }
        return pods == {"worker-1": "fluentd:v2", "worker-2": "fluentd:v1"}

    wait_for(replaced, timeout=30, what="worker-1's pod replaced on the new image only")
