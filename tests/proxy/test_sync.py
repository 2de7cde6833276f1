"""kube-proxy's per-node sync from its caches: iptables and IPVS rules, and the trace summary."""

from __future__ import annotations

import pytest

from kubeviz.client import ENDPOINTSLICES, NODES, SERVICES, clusterinfo, liveness
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.sharedcache import CacheWriter, SharedCache
from kubeviz.proxy import sync

pytestmark = pytest.mark.django_db(transaction=True)


def service(name: str, ip: str) -> dict:
    return {
        "metadata": {"name": name, "namespace": "default", "resourceVersion": "20"},
        "spec": {"clusterIP": ip, "ports": [{"name": "http", "port": 80, "protocol": "TCP"}]},
    }


def slice_(name: str, ips: list[str]) -> dict:
    return {
        "metadata": {"name": f"{name}-abc", "namespace": "default", "labels": {"kubernetes.io/service-name": name},
                     "resourceVersion": "31"},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [ip], "conditions": {"ready": True}, "nodeName": "worker-1"} for ip in ips],
    }  # fmt: skip


def fill(cluster: str, node: str, *, services: list[dict], slices: list[dict]) -> SharedCache:
    writer = CacheWriter(cluster=cluster, component=sync.cache_component(node))
    for resource, items in ((SERVICES, services), (ENDPOINTSLICES, slices), (NODES, [])):
        writer.reset(resource)
        for obj in items:
            writer.put(resource, obj)
        writer.mark_synced(resource, "40")
    return SharedCache(cluster=cluster, component=sync.cache_component(node))


def test_iptables_rules_and_probabilities() -> None:
    cache = fill(
        "px-ipt",
        "worker-2",
        services=[service("web", "10.96.5.5"), service("lonely", "10.96.6.6")],
        slices=[slice_("web", ["10.244.1.2", "10.244.1.3", "10.244.2.4"])],
    )
    rules = sync.sync_node(
        cluster="px-ipt", node="worker-2", cache=cache, mode="iptables", cluster_cidr="10.244.0.0/16"
    )
    web = next(s for s in rules.services if s["name"] == "web")
    assert web["chain"].startswith("KUBE-SVC-")
    assert [round(e["probability"], 5) for e in web["endpoints"]] == [0.33333, 0.5, 1.0]
    assert all(e["chain"].startswith("KUBE-SEP-") for e in web["endpoints"])
    assert "-m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-" in rules.text
    assert "-A KUBE-SERVICES -d 10.96.6.6/32 -p tcp" in rules.text and "has no endpoints" in rules.text
    assert rules.restore.startswith("*filter") and rules.revision == 31 and rules.sync_count == 1
    again = sync.sync_node(
        cluster="px-ipt", node="worker-2", cache=cache, mode="iptables", cluster_cidr="10.244.0.0/16"
    )
    assert again.pk == rules.pk and again.sync_count == 2


def test_ipvs_virtual_servers() -> None:
    cache = fill(
        "px-ipvs",
        "worker-1",
        services=[service("web", "10.96.5.5")],
        slices=[slice_("web", ["10.244.1.2", "10.244.1.3"])],
    )
    rules = sync.sync_node(
        cluster="px-ipvs", node="worker-1", cache=cache, mode="ipvs", cluster_cidr="10.244.0.0/16"
    )
    assert "TCP  10.96.5.5:80 rr" in rules.text
    assert "-> 10.244.1.2:8080" in rules.text and "Masq" in rules.text
    assert [e["probability"] for e in rules.services[0]["endpoints"]] == [0.5, 0.5]
    assert rules.restore == ""


def test_the_queued_sync_of_a_stopped_kube_proxy_is_dropped() -> None:
    clusterinfo.publish(ClusterInfo(name="px-dead", proxy_mode="iptables"))
    fill("px-dead", "worker-1", services=[service("web", "10.96.5.5")], slices=[])
    sync.sync("px-dead|worker-1")
    assert sync.rules_for("px-dead", "worker-1") is None
    liveness.mark_alive("px-dead", [sync.cache_component("worker-1")])
    sync.sync("px-dead|worker-1")
    assert sync.rules_for("px-dead", "worker-1").mode == "iptables"
