"""kubeadm's add-ons and static pods as data: what a new cluster gets, for every flavour."""

from __future__ import annotations

import re

import pytest

from kubeviz.cluster import addons

RFC1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MASTER_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def tolerates(tolerations: list[dict], taint: dict) -> bool:
    """Match a taint as the scheduler's TaintToleration plugin does (enough for these manifests)."""
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint["effect"]:
            continue
        if t.get("operator") == "Exists" and not t.get("key"):
            return True
        if t.get("key") == taint["key"] and (
            t.get("operator") == "Exists" or t.get("value") == taint.get("value")
        ):
            return True
    return False


@pytest.mark.parametrize("cni", ["flannel", "calico", "cilium"])
@pytest.mark.parametrize("mode", ["iptables", "ipvs"])
def test_addons_for_every_flavour(cni: str, mode: str) -> None:
    manifests = addons.addon_manifests(cni=cni, proxy_mode=mode)
    names = [(m.body["kind"], m.body["metadata"]["name"]) for m in manifests]
    daemonset = {"flannel": "kube-flannel-ds", "calico": "calico-node", "cilium": "cilium"}[cni]
    for wanted in [
        ("DaemonSet", "kube-proxy"),
        ("DaemonSet", daemonset),
        ("Deployment", "coredns"),
        ("Service", "kube-dns"),
    ]:
        assert wanted in names
    namespaces_made = set()
    for m in manifests:
        meta = m.body["metadata"]
        assert RFC1123.match(meta["name"].replace(".", "-")), meta["name"]
        if m.body["kind"] == "Namespace":
            namespaces_made.add(meta["name"])
        elif m.namespace not in ("kube-system", "default"):
            assert m.namespace in namespaces_made, f"{meta['name']} comes before its namespace"
        if m.body["kind"] in ("DaemonSet", "Deployment"):
            spec = m.body["spec"]
            template_labels = spec["template"]["metadata"]["labels"]
            assert all(template_labels.get(k) == v for k, v in spec["selector"]["matchLabels"].items())
            tolerations = spec["template"]["spec"].get("tolerations", [])
            if m.body["kind"] == "DaemonSet":
                assert tolerates(tolerations, MASTER_TAINT), meta["name"]
            for c in spec["template"]["spec"]["containers"]:
                line = " ".join([*c.get("command", []), *c.get("args", [])])
                assert not re.fullmatch(r"(sleep \d+|exit \d+|true|false)", line), "daemons must run forever"
    proxy_config = next(
        m for m in manifests if m.body["kind"] == "ConfigMap" and m.body["metadata"]["name"] == "kube-proxy"
    )
    assert f"mode: {mode}" in proxy_config.body["data"]["config.conf"]
    daemon = next(
        m for m in manifests if m.body["metadata"]["name"] == daemonset and m.body["kind"] == "DaemonSet"
    )
    selector = daemon.body["spec"]["selector"]["matchLabels"]
    assert addons.daemon_pod_labels(cni) == selector
    assert daemon.namespace == addons.daemon_namespace(cni)


def test_coredns_and_kube_dns() -> None:
    manifests = {
        (m.body["kind"], m.body["metadata"]["name"]): m.body
        for m in addons.addon_manifests(cni="flannel", proxy_mode="iptables")
    }
    coredns = manifests[("Deployment", "coredns")]
    assert coredns["spec"]["replicas"] == 2
    assert not tolerates(coredns["spec"]["template"]["spec"]["tolerations"], MASTER_TAINT)  # workers only
    service = manifests[("Service", "kube-dns")]
    assert service["spec"]["clusterIP"] == "10.96.0.10"
    assert [(p["name"], p["port"], p["protocol"]) for p in service["spec"]["ports"]] == [
        ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP"), ("metrics", 9153, "TCP"),
    ]  # fmt: skip


def test_static_pods_of_a_three_master_cluster() -> None:
    masters = [("master-1", "192.168.0.11"), ("master-2", "192.168.0.12"), ("master-3", "192.168.0.13")]
    pods = addons.static_pods(node="master-2", node_ip="192.168.0.12", masters=masters)
    assert [p["metadata"]["name"] for p in pods] == list(addons.STATIC_COMPONENTS)
    etcd = pods[0]["spec"]["containers"][0]["command"]
    assert "--name=master-2" in etcd
    assert (
        "--initial-cluster=master-1=https://192.168.0.11:2380,master-2=https://192.168.0.12:2380,"
        "master-3=https://192.168.0.13:2380"
    ) in etcd
    for pod in pods:
        assert pod["spec"]["hostNetwork"] is True and pod["metadata"]["namespace"] == "kube-system"
        assert pod["metadata"]["labels"] == {"component": pod["metadata"]["name"], "tier": "control-plane"}
        assert "nodeName" not in pod["spec"]  # the kubelet binds its mirror pod


def test_unknown_cni_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown CNI"):
        addons.addon_manifests(cni="weave", proxy_mode="iptables")
