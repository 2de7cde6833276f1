"""The network daemon's route sync from its Node cache, for every flavour, and route lookups."""

from __future__ import annotations

import pytest

from kubeviz.client import NODES, clusterinfo, liveness
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.sharedcache import CacheWriter, SharedCache
from kubeviz.client.workqueue import WorkQueue
from kubeviz.netd import routes

pytestmark = pytest.mark.django_db(transaction=True)

NODES_3 = [("master-1", "192.168.0.11", "10.244.0.0/24"), ("worker-1", "192.168.0.101", "10.244.1.0/24"),
           ("worker-2", "192.168.0.102", "10.244.2.0/24")]  # fmt: skip


def node(name: str, ip: str, cidr: str, rv: int) -> dict:
    return {
        "metadata": {"name": name, "resourceVersion": str(rv)},
        "spec": {"podCIDR": cidr} if cidr else {},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
    }


def fill(cluster: str, on: str, nodes: list[tuple[str, str, str]]) -> None:
    writer = CacheWriter(cluster=cluster, component=routes.cache_component(on))
    writer.reset(NODES)
    for i, (name, ip, cidr) in enumerate(nodes):
        writer.put(NODES, node(name, ip, cidr, 10 + i))
    writer.mark_synced(NODES, "99")


@pytest.mark.parametrize(
    ("cni", "dev", "via", "proto", "encapsulation"),
    [
        ("flannel", "flannel.1", "10.244.2.0", None, "vxlan"),
        ("calico", "tunl0", "192.168.0.102", "bird", "ipip"),
        ("cilium", "cilium_host", "10.244.1.1", None, "vxlan"),
    ],
)
def test_routes_per_flavour(cni: str, dev: str, via: str, proto: str | None, encapsulation: str) -> None:
    cluster = f"net-{cni}"
    fill(cluster, "worker-1", NODES_3)
    row = routes.sync_node(
        cluster=cluster,
        node="worker-1",
        cache=SharedCache(cluster=cluster, component=routes.cache_component("worker-1")),
        cni=cni,
    )
    assert [r["dst"] for r in row.routes] == ["10.244.0.0/24", "10.244.2.0/24"]
    to_worker_2 = row.routes[1]
    assert (to_worker_2["dev"], to_worker_2["via"], to_worker_2["proto"]) == (dev, via, proto)
    assert row.encapsulation == encapsulation and row.revision == 12 and row.sync_count == 1
    assert routes.route_to(cluster, "worker-1", "10.244.2.7")["dst"] == "10.244.2.0/24"
    assert routes.route_to(cluster, "worker-1", "10.244.1.9")["local"] is True
    assert routes.route_to(cluster, "worker-1", "10.9.9.9") is None


def test_a_node_without_pod_cidr_gets_no_route_yet() -> None:
    fill("net-late", "master-1", [NODES_3[0], ("worker-9", "192.168.0.109", "")])
    cache = SharedCache(cluster="net-late", component=routes.cache_component("master-1"))
    assert routes.sync_node(cluster="net-late", node="master-1", cache=cache, cni="flannel").routes == []
    fill("net-late2", "worker-9", [NODES_3[0], ("worker-9", "192.168.0.109", "")])
    cache = SharedCache(cluster="net-late2", component=routes.cache_component("worker-9"))
    assert routes.sync_node(cluster="net-late2", node="worker-9", cache=cache, cni="cilium").routes == []


def test_sync_of_a_dead_agent_does_nothing_and_an_unsynced_cache_waits() -> None:
    clusterinfo.publish(ClusterInfo(name="net-q", cni="calico"))
    routes.sync("net-q|worker-1")  # not marked alive: dropped
    assert routes.routes_for("net-q", "worker-1") is None
    liveness.mark_alive("net-q", [routes.cache_component("worker-1")])
    routes.sync("net-q|worker-1")  # alive, but its informer has not listed yet
    assert "net-q|worker-1" in WorkQueue(routes.QUEUE).waiting()
    fill("net-q", "worker-1", NODES_3)
    routes.sync("net-q|worker-1")
    assert routes.routes_for("net-q", "worker-1").daemon == "calico-felix"
