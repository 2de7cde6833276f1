"""kube-proxy's sync loop for one node: read its caches, render the rules, store them.

Mirrors ``syncProxyRules`` of ``pkg/proxy/iptables/proxier.go`` and ``pkg/proxy/ipvs``: a full
resync of every Service port and its ready endpoints whenever anything changed.  Each node's
kube-proxy watches Services, EndpointSlices and its own Node through the apiserver (the
informers run in ``kubeviz.machines`` while the node's kube-proxy pod runs); every event
queues ``<cluster>|<node>`` on the ``kube-proxy`` work queue, which coalesces a burst of
events into one sync, as upstream's ``BoundedFrequencyRunner`` does.

The rendered rules are node state (``ProxyRules``), stored with the revision they reflect.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import transaction

from kubeviz.client import ENDPOINTSLICES, NODES, SERVICES, liveness, nodeactions
from kubeviz.client.clusterinfo import cluster_info
from kubeviz.client.sharedcache import SharedCache
from kubeviz.client.workqueue import WorkQueue
from kubeviz.proxy import iptables, ipvs
from kubeviz.proxy.model import ServicePort, build_service_ports
from kubeviz.proxy.models import ProxyRules

log = logging.getLogger(__name__)

COMPONENT = "kube-proxy"
QUEUE = "kube-proxy"
RESOURCES = (SERVICES, ENDPOINTSLICES, NODES)


def cache_component(node: str) -> str:
    return f"{COMPONENT}@{node}"


def _revision(*groups: list[dict[str, Any]]) -> int:
    best = 0
    for items in groups:
        for obj in items:
            rv = str((obj.get("metadata") or {}).get("resourceVersion") or "0")
            if rv.isdigit():
                best = max(best, int(rv))
    return best


def summary(service_ports: list[ServicePort], *, mode: str) -> list[dict[str, Any]]:
    """Describe the rules per service port as a packet trace reads them."""
    out = []
    for sp in service_ports:
        n = len(sp.endpoints)
        endpoints = []
        for i, ep in enumerate(sp.endpoints):
            if mode == "iptables":
                # Rule i matches 1/(n-i) of what reaches it: each endpoint ends up with 1/n overall.
                probability = 1.0 if i == n - 1 else 1.0 / (n - i)
                chain = iptables.service_port_endpoint_chain_name(sp.service_port_name, sp.protocol, str(ep))
            else:
                probability = 1.0 / n
                chain = ""
            endpoints.append(
                {
                    "ip": ep.ip,
                    "port": ep.port,
                    "node": ep.node_name,
                    "chain": chain,
                    "probability": probability,
                }
            )
        out.append(
            {
                "namespace": sp.namespace,
                "name": sp.name,
                "portName": sp.port_name,
                "protocol": sp.protocol,
                "clusterIP": sp.cluster_ip,
                "port": sp.port,
                "nodePort": sp.node_port,
                "chain": iptables.service_port_chain_name(sp.service_port_name, sp.protocol)
                if mode == "iptables"
                else "",
                "endpoints": endpoints,
            }
        )
    return out


def _node_ips(nodes: list[dict[str, Any]]) -> list[str]:
    return [
        a["address"]
        for n in nodes
        for a in (n.get("status") or {}).get("addresses") or []
        if a.get("type") == "InternalIP"
    ]


def sync_node(*, cluster: str, node: str, cache: SharedCache, mode: str, cluster_cidr: str) -> ProxyRules:
    """Render and store the rules of one node from its kube-proxy's cache."""
    services = cache.lister(SERVICES).list()
    slices = cache.lister(ENDPOINTSLICES).list()
    nodes = cache.lister(NODES).list()
    ports = build_service_ports(services, slices, node_name=node)
    if mode == "ipvs":
        text = ipvs.render_ipvsadm(ipvs.build_virtual_servers(ports, node_ips=_node_ips(nodes)))
        restore = ""
    else:
        options = iptables.ProxierOptions(cluster_cidr=cluster_cidr)
        text = iptables.render_save(ports, options=options)
        restore = iptables.render_restore(ports, options=options)
    values = {
        "mode": mode,
        "text": text,
        "restore": restore,
        "services": summary(ports, mode=mode),
        "revision": _revision(services, slices, nodes),
        "synced_at": datetime.now(UTC),
    }
    with transaction.atomic():
        rules, created = ProxyRules.objects.select_for_update().get_or_create(
            cluster=cluster, node=node, defaults={**values, "sync_count": 1}
        )
        if not created:
            for key, value in values.items():
                setattr(rules, key, value)
            rules.sync_count += 1
            rules.save()
    nodeactions.record(
        cluster=cluster,
        node=node,
        component=COMPONENT,
        action="SyncProxyRules",
        detail={"mode": mode, "servicePorts": len(ports), "revision": rules.revision},
    )
    return rules


def sync(qkey: str) -> None:
    """Sync one node's rules (the work queue's reconcile for ``<cluster>|<node>``)."""
    cluster, _, node = qkey.partition("|")
    if not liveness.alive(cluster, cache_component(node)):
        return  # the agent stopped (its pod is gone): what it had queued dies with it
    info = cluster_info(cluster)
    cache = SharedCache(cluster=cluster, component=cache_component(node))
    if info is None or not cache.synced(RESOURCES):
        WorkQueue(QUEUE).add_after(qkey, 1.0)
        return
    sync_node(cluster=cluster, node=node, cache=cache, mode=info.proxy_mode, cluster_cidr=info.cluster_cidr)


def rules_for(cluster: str, node: str) -> ProxyRules | None:
    return ProxyRules.objects.filter(cluster=cluster, node=node).first()


def forget(cluster: str, node: str | None = None) -> None:
    rows = ProxyRules.objects.filter(cluster=cluster)
    if node is not None:
        rows = rows.filter(node=node)
    rows.delete()
