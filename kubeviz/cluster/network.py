"""The explorer's view of the network: DNS answers and packet traces through real node state.

Nothing here decides how the network behaves; it reads what the components wrote and follows
it, the way a person would with ``dig``, ``iptables-save`` and ``ip route`` on each hop:

* **DNS** (``dns``): a pod asks kube-dns (10.96.0.10).  The source node's kube-proxy rules
  pick which coredns endpoint gets the packet; that coredns pod answers from its own watch
  cache (``kubeviz.dns.server``).  With no coredns pod running, or a kube-dns Service without
  endpoints, or no kube-proxy rules on the source node, the lookup fails and says why.
* **Trace** (``trace``): DNS, then the source node's kube-proxy rule that DNATs a ClusterIP
  (the endpoint chosen and the probabilities of the ``statistic`` rules), the route lookup in
  the routes the Network Daemon programmed (the VXLAN/IPIP/eBPF path), the destination node,
  the pod's veth from the CNI's allocation, and the pod.

Which endpoint a ``statistic --mode random`` rule chain picks is chance on a real node; here it
is drawn from a hash of the source pod, destination and a per-request nonce the caller may fix
(``seed``), so a shared link can replay the same path.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from typing import Any

from kubeviz.apiserver import bootstrap
from kubeviz.dns import server as dns_server
from kubeviz.kubelet.models import Sandbox
from kubeviz.netd import routes as netd_routes
from kubeviz.proxy import sync as proxy_sync

Obj = dict[str, Any]
DNS_SERVICE = ("kube-system", "kube-dns")
DNS_PORT = 53


class TraceError(Exception):
    """A hop is missing.  ``hop`` names it; ``hops`` are those that worked before it."""

    def __init__(self, hop: str, message: str, hops: list[Obj] | None = None, code: int = 409) -> None:
        super().__init__(message)
        self.hop = hop
        self.message = message
        self.hops = hops or []
        self.code = code


@dataclass
class ClusterView:
    """The API objects a lookup reads, fetched once per request through the apiserver."""

    name: str
    pods: list[Obj]
    services: list[Obj]
    slices: list[Obj]
    nodes: list[Obj]

    @classmethod
    def load(cls, name: str) -> ClusterView:
        def objects(group: str, resource: str) -> list[Obj]:
            return bootstrap.list_objects(name, group=group, version="v1", resource=resource)

        return cls(
            name=name,
            pods=objects("", "pods"),
            services=objects("", "services"),
            slices=objects("discovery.k8s.io", "endpointslices"),
            nodes=objects("", "nodes"),
        )

    def pod(self, key: str) -> Obj | None:
        namespace, _, name = key.partition("/")
        for p in self.pods:
            if p["metadata"]["name"] == name and p["metadata"].get("namespace") == namespace:
                return p
        return None

    def pod_by_ip(self, ip: str) -> Obj | None:
        """The pod that holds ``ip`` now.

        A finished pod keeps its podIP in its status, as upstream's do, while the CNI has
        already handed the address to a new pod; the live holder wins.
        """
        finished = None
        for p in self.pods:
            status = p.get("status") or {}
            if status.get("podIP") != ip or (p.get("spec") or {}).get("hostNetwork"):
                continue
            if status.get("phase") in ("Succeeded", "Failed"):
                finished = finished or p
                continue
            return p
        return finished

    def service(self, namespace: str, name: str) -> Obj | None:
        for s in self.services:
            if s["metadata"]["name"] == name and s["metadata"].get("namespace") == namespace:
                return s
        return None

    def node_ip(self, node: str) -> str:
        for n in self.nodes:
            if n["metadata"]["name"] == node:
                for a in (n.get("status") or {}).get("addresses") or []:
                    if a.get("type") == "InternalIP":
                        return a["address"]
        return ""

    def node_for_ip(self, ip: str) -> str | None:
        """Return the node whose podCIDR holds ``ip``."""
        address = ipaddress.ip_address(ip)
        for n in self.nodes:
            cidr = (n.get("spec") or {}).get("podCIDR")
            if cidr and address in ipaddress.ip_network(cidr):
                return n["metadata"]["name"]
        return None


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _pick(entries: list[Obj], seed: str) -> tuple[int, Obj]:
    """Walk a ``statistic --mode random`` chain with a hashed draw: rule i matches with its probability."""
    for i, entry in enumerate(entries):
        p = float(entry.get("probability", 1.0))
        draw = int(hashlib.sha256(f"{seed}|{i}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if draw < p or i == len(entries) - 1:
            return i, entry
    raise AssertionError("unreachable: the last rule always matches")


def _running_source(view: ClusterView, source: str) -> Obj:
    pod = view.pod(source)
    if pod is None:
        raise TraceError("source", f'pod "{source}" not found', code=404)
    node = (pod.get("spec") or {}).get("nodeName")
    if not node or (pod.get("status") or {}).get("phase") != "Running":
        raise TraceError("source", f'pod "{source}" is not running on a node yet, so it cannot send anything')
    return pod


def _dnat(
    view: ClusterView, *, node: str, ip: str, port: int, protocol: str, seed: str, hops: list[Obj]
) -> Obj:
    """Find the node's kube-proxy rule for ``ip:port`` and the endpoint it sends the packet to."""
    rules = proxy_sync.rules_for(view.name, node)
    if rules is None:
        raise TraceError(
            "kube-proxy",
            f"node {node} has no kube-proxy rules: kube-proxy has not synced there (is its pod running?)",
            hops,
        )
    for entry in rules.services or []:
        if (
            entry.get("clusterIP") == ip
            and int(entry.get("port", 0)) == port
            and entry.get("protocol", "TCP") == protocol
        ):
            endpoints = entry.get("endpoints") or []
            service = f"{entry.get('namespace')}/{entry.get('name')}"
            if not endpoints:
                raise TraceError(
                    "endpoints",
                    f"no endpoints: Service {service} port {port}/{protocol} has no ready endpoints, so "
                    f"kube-proxy on {node} rejects the connection",
                    hops,
                )
            index, chosen = _pick(endpoints, seed)
            return {
                "hop": "kube-proxy",
                "node": node,
                "mode": rules.mode,
                "service": service,
                "clusterIP": ip,
                "port": port,
                "protocol": protocol,
                "serviceChain": entry.get("chain", ""),
                "endpointChain": chosen.get("chain", ""),
                "endpoint": f"{chosen['ip']}:{chosen['port']}",
                "endpointNode": chosen.get("node"),
                "candidates": [
                    {
                        "endpoint": f"{e['ip']}:{e['port']}",
                        "probability": e.get("probability"),
                        "chain": e.get("chain", ""),
                    }
                    for e in endpoints
                ],
                "chosen": index,
                "syncedRevision": rules.revision,
            }
    raise TraceError(
        "kube-proxy",
        f"no kube-proxy rule on {node} for {ip}:{port}/{protocol}: no Service has that ClusterIP and port "
        f"(rules synced at revision {rules.revision})",
        hops,
    )


def resolve(view: ClusterView, *, source: Obj, name: str, qtype: str, seed: str, hops: list[Obj]) -> Obj:
    """Ask kube-dns from ``source`` and return the DNS hop (with the coredns pod that answered)."""
    node = source["spec"]["nodeName"]
    service = view.service(*DNS_SERVICE)
    if service is None:
        raise TraceError("dns", "DNS down: the kube-system/kube-dns Service does not exist", hops)
    dns_ip = (service.get("spec") or {}).get("clusterIP", "")
    try:
        dnat = _dnat(view, node=node, ip=dns_ip, port=DNS_PORT, protocol="UDP", seed=seed, hops=hops)
    except TraceError as exc:
        raise TraceError("dns", f"DNS down: {exc.message}", hops) from exc
    server_ip = dnat["endpoint"].split(":")[0]
    coredns = view.pod_by_ip(server_ip)
    if coredns is None:
        raise TraceError("dns", f"DNS down: no pod has the endpoint address {server_ip} any more", hops)
    key = f"{coredns['metadata']['namespace']}/{coredns['metadata']['name']}"
    answer = dns_server.serve(
        cluster=view.name, pod_key=key, name=name, from_namespace=source["metadata"]["namespace"], qtype=qtype
    )
    if answer is None:
        raise TraceError("dns", f"DNS down: coredns pod {key} is not serving (it is not running)", hops)
    return {
        "hop": "dns",
        "node": node,
        "server": {
            "service": "/".join(DNS_SERVICE),
            "clusterIP": dns_ip,
            "pod": key,
            "ip": server_ip,
            "node": (coredns.get("spec") or {}).get("nodeName"),
        },
        "via": dnat,
        **dns_server.as_json(answer),
    }


def dns(cluster: str, *, name: str, source: str, qtype: str = "A", seed: str = "") -> Obj:
    view = ClusterView.load(cluster)
    pod = _running_source(view, source)
    return resolve(view, source=pod, name=name, qtype=qtype, seed=seed or f"{source}|{name}", hops=[])


def trace(cluster: str, *, source: str, host: str, port: int, protocol: str = "TCP", seed: str = "") -> Obj:
    """Return the ordered hops from ``source`` to ``host:port``, or raise TraceError naming the gap."""
    view = ClusterView.load(cluster)
    pod = _running_source(view, source)
    node = pod["spec"]["nodeName"]
    seed = seed or f"{source}|{host}|{port}"
    hops: list[Obj] = [
        {"hop": "source", "pod": source, "ip": (pod.get("status") or {}).get("podIP"), "node": node}
    ]
    ip = host
    if not _is_ip(host):
        answer = resolve(view, source=pod, name=host, qtype="A", seed=seed, hops=hops)
        hops.append(answer)
        if answer["status"] != "NOERROR" or not answer["answers"]:
            raise TraceError("dns", f'DNS lookup of "{host}" failed: {answer["status"]}', hops, code=404)
        ip = next(a["value"] for a in answer["answers"] if a["type"] == "A")
    target_ip, target_port = ip, port
    if view.pod_by_ip(ip) is None:
        dnat = _dnat(view, node=node, ip=ip, port=port, protocol=protocol, seed=seed, hops=hops)
        hops.append(dnat)
        target_ip, target_port = dnat["endpoint"].rsplit(":", 1)[0], int(dnat["endpoint"].rsplit(":", 1)[1])
    destination = view.pod_by_ip(target_ip)
    dest_node = view.node_for_ip(target_ip)
    if destination is None or dest_node is None:
        raise TraceError("route", f"no pod has the address {target_ip}", hops, code=404)
    route = netd_routes.route_to(view.name, node, target_ip)
    if route is None:
        raise TraceError(
            "route",
            f"no route on {node} to {target_ip}: the network daemon there has not programmed one "
            f"for {dest_node}'s podCIDR (is it running?)",
            hops,
        )
    hops.append({"hop": "route", "node": node, "destination": target_ip, **route})
    hops.append({"hop": "node", "node": dest_node, "ip": view.node_ip(dest_node), "local": dest_node == node})
    meta = destination["metadata"]
    sandbox = (
        Sandbox.objects.filter(
            cluster=view.name, node=dest_node, pod_uid=meta.get("uid", ""), state=Sandbox.READY
        )
        .order_by("-created_at")
        .first()
    )
    if sandbox is None or not sandbox.interface:
        raise TraceError(
            "veth", f"pod {meta['namespace']}/{meta['name']} has no network attachment on {dest_node}", hops
        )
    hops.append({"hop": "veth", "node": dest_node, "interface": sandbox.interface, "ip": sandbox.ip})
    hops.append(
        {
            "hop": "pod",
            "pod": f"{meta['namespace']}/{meta['name']}",
            "ip": target_ip,
            "port": target_port,
            "node": dest_node,
            "phase": (destination.get("status") or {}).get("phase"),
        }
    )
    return {"from": source, "to": f"{host}:{port}", "protocol": protocol, "hops": hops}
