"""One node's route sync, for every CNI flavour.

Mirrors what the daemons do when a Node appears, changes or goes: flanneld's subnet manager
adds a ``flannel.1`` route per remote subnet (VXLAN), calico's BIRD learns one route per peer
node's block over ``tunl0`` (IPIP), and cilium-agent routes every remote podCIDR via its
``cilium_host`` address.  The route shapes are the flavours' data (``kubelet.cni.flavours``).

Each node's daemon watches Nodes (informers in ``kubeviz.machines`` while its pod runs); every
event queues ``<cluster>|<node>`` on the ``netd`` work queue.  ``route_to`` answers the kernel's
question for a packet trace: which route takes a destination address.
"""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from kubeviz.client import NODES, liveness, nodeactions
from kubeviz.client.clusterinfo import cluster_info
from kubeviz.client.sharedcache import SharedCache
from kubeviz.client.workqueue import WorkQueue
from kubeviz.kubelet.cni import flavours
from kubeviz.netd.models import NodeRoutes

QUEUE = "netd"
DAEMONS = {"flannel": "flanneld", "calico": "calico-felix", "cilium": "cilium-agent"}
ENCAPSULATION = {"flannel": "vxlan", "calico": "ipip", "cilium": "vxlan"}
#: The device a local pod's traffic leaves through, by flavour.
LOCAL_DEVICE = {"flannel": "cni0", "calico": "cali*", "cilium": "lxc*"}


def cache_component(node: str) -> str:
    return f"netd@{node}"


def _addresses(node: dict[str, Any]) -> str:
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return a["address"]
    return ""


def devices(cni: str, pod_cidr: str) -> list[dict[str, str]]:
    """Return the node's devices of a flavour with the address each holds."""
    f = flavours.flavour(cni)
    out = []
    for name in f.node_devices:
        address = ""
        if pod_cidr:
            net = ipaddress.IPv4Network(pod_cidr)
            if name in ("cni0", "cilium_host"):
                address = f"{flavours.router_ip(pod_cidr)}/{net.prefixlen if name == 'cni0' else 32}"
            elif name == "flannel.1":
                address = f"{net.network_address}/32"
            elif name == "tunl0":
                address = f"{net.network_address + 1}/32"
        out.append({"name": name, "address": address})
    return out


def sync_node(*, cluster: str, node: str, cache: SharedCache, cni: str) -> NodeRoutes:
    """Compute and store the routes ``node`` holds to every other node's podCIDR."""
    nodes = cache.lister(NODES).list()
    triples = [
        (n["metadata"]["name"], _addresses(n), (n.get("spec") or {}).get("podCIDR") or "") for n in nodes
    ]
    if not any(name == node for name, _, _ in triples):
        triples.append((node, "", ""))
    own_cidr = next(cidr for name, _, cidr in triples if name == node)
    try:
        table = flavours.routes(cni, node=node, nodes=triples)
    except ValueError:
        table = []  # cilium without a local podCIDR has no cilium_host address yet
    routes = [
        {
            "dst": r.dst,
            "via": r.via,
            "dev": r.dev,
            "proto": r.proto,
            "src": r.src,
            "onlink": r.onlink,
            "mtu": r.mtu,
            "text": str(r),
        }
        for r in table
    ]
    revision = max(
        (
            int(rv)
            for n in nodes
            if str(rv := (n.get("metadata") or {}).get("resourceVersion") or "").isdigit()
        ),
        default=0,
    )
    values = {
        "daemon": DAEMONS[cni],
        "cni": cni,
        "routes": routes,
        "devices": devices(cni, own_cidr),
        "encapsulation": ENCAPSULATION[cni],
        "pod_cidr": own_cidr,
        "revision": revision,
        "synced_at": datetime.now(UTC),
    }
    with transaction.atomic():
        row, created = NodeRoutes.objects.select_for_update().get_or_create(
            cluster=cluster, node=node, defaults={**values, "sync_count": 1}
        )
        before = [] if created else row.routes
        if not created:
            for key, value in values.items():
                setattr(row, key, value)
            row.sync_count += 1
            row.save()
    if created or before != routes:
        nodeactions.record(
            cluster=cluster,
            node=node,
            component=DAEMONS[cni],
            action="RoutesChanged",
            detail={"routes": [r["text"] for r in routes]},
        )
    return row


def sync(qkey: str) -> None:
    """Sync one node's routes (the work queue's reconcile for ``<cluster>|<node>``)."""
    cluster, _, node = qkey.partition("|")
    if not liveness.alive(cluster, cache_component(node)):
        return  # the agent stopped (its pod is gone): what it had queued dies with it
    info = cluster_info(cluster)
    cache = SharedCache(cluster=cluster, component=cache_component(node))
    if info is None or not cache.synced([NODES]):
        WorkQueue(QUEUE).add_after(qkey, 1.0)
        return
    sync_node(cluster=cluster, node=node, cache=cache, cni=info.cni)


def routes_for(cluster: str, node: str) -> NodeRoutes | None:
    return NodeRoutes.objects.filter(cluster=cluster, node=node).first()


def route_to(cluster: str, node: str, ip: str) -> dict[str, Any] | None:
    """Return the route ``node`` uses for ``ip``: local podCIDR, a programmed route, or None."""
    row = routes_for(cluster, node)
    if row is None:
        return None
    address = ipaddress.ip_address(ip)
    if row.pod_cidr and address in ipaddress.ip_network(row.pod_cidr):
        return {
            "dst": row.pod_cidr,
            "dev": LOCAL_DEVICE.get(row.cni, ""),
            "local": True,
            "text": f"{row.pod_cidr} dev {LOCAL_DEVICE.get(row.cni, '')} scope link",
        }
    best = None
    for r in row.routes:
        net = ipaddress.ip_network(r["dst"])
        if address in net and (best is None or net.prefixlen > ipaddress.ip_network(best["dst"]).prefixlen):
            best = r
    if best is None:
        return None
    return {**best, "local": False, "encapsulation": row.encapsulation, "daemon": row.daemon}


def forget(cluster: str, node: str | None = None) -> None:
    rows = NodeRoutes.objects.filter(cluster=cluster)
    if node is not None:
        rows = rows.filter(node=node)
    rows.delete()
