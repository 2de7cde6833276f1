"""CNI flavours as data: the devices a node and a pod get, and the routes to other nodes' pods.

Mirrors what the real plugins leave on a node, as ``ip link`` and ``ip route`` show it:

* flannel (``flannel-io/flannel``, VXLAN backend, with the ``bridge`` CNI plugin): bridge ``cni0``,
  VTEP ``flannel.1``; pod veths are ``veth`` + 8 hex digits (``ip.RandomVethName``); a route per
  remote subnet via that subnet's network address, ``onlink`` because it is not on any link;
* calico (``projectcalico/calico``, IPIP with BIRD): no bridge, tunnel ``tunl0``; pod interfaces
  are ``cali`` + the first 11 hex digits of sha1("<namespace>.<name>") (libcalico-go
  ``VethNameForWorkload``); BGP-learned routes via the remote node's IP, ``proto bird onlink``;
* cilium (``cilium/cilium``, tunnel mode): ``cilium_host``/``cilium_net`` and ``cilium_vxlan``;
  pod interfaces are ``lxc`` + the first 12 hex digits of sha256(endpoint id)
  (``Endpoint2IfName``); every remote podCIDR goes via the local ``cilium_host`` address, with the
  tunnel MTU (``createNodeRouteSpec``).

Simplified: flannel's random veth names are derived from the container id so they are stable,
calico routes whole podCIDRs rather than its /26 IPAM blocks, the cilium_host address is the
podCIDR's first host (real Cilium takes whichever address its IPAM hands out first), only routes
to *other* nodes are listed, and IPv4 only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Literal

Via = Literal["subnet", "node_ip", "local_router"]
HashKey = Literal["container_id", "namespace.name"]


@dataclass(frozen=True)
class Flavour:
    """One CNI flavour's devices and route shape; ``routes`` and ``pod_interface`` read it."""

    name: str
    node_devices: tuple[str, ...]
    pod_prefix: str
    pod_hash: str  # hashlib algorithm name
    pod_hex_digits: int
    pod_hash_key: HashKey
    route_dev: str
    route_via: Via
    route_proto: str | None = None
    route_onlink: bool = False
    route_src: bool = False
    route_mtu: int | None = None


FLAVOURS: dict[str, Flavour] = {
    f.name: f
    for f in (
        Flavour(
            name="flannel",
            node_devices=("cni0", "flannel.1"),
            pod_prefix="veth",
            pod_hash="sha256",
            pod_hex_digits=8,
            pod_hash_key="container_id",
            route_dev="flannel.1",
            route_via="subnet",
            route_onlink=True,
        ),
        Flavour(
            name="calico",
            node_devices=("tunl0",),
            pod_prefix="cali",
            pod_hash="sha1",
            pod_hex_digits=11,
            pod_hash_key="namespace.name",
            route_dev="tunl0",
            route_via="node_ip",
            route_proto="bird",
            route_onlink=True,
        ),
        Flavour(
            name="cilium",
            node_devices=("cilium_host", "cilium_net", "cilium_vxlan"),
            pod_prefix="lxc",
            pod_hash="sha256",
            pod_hex_digits=12,
            pod_hash_key="container_id",
            route_dev="cilium_host",
            route_via="local_router",
            route_src=True,
            route_mtu=1450,  # 1500 minus the 50 bytes of VXLAN encapsulation
        ),
    )
}


@dataclass(frozen=True)
class NodeNet:
    """One node as the network sees it."""

    name: str
    ip: str
    pod_cidr: str


@dataclass(frozen=True)
class Route:
    """One line of ``ip route``; ``str()`` prints it in iproute2's field order."""

    dst: str
    via: str
    dev: str
    proto: str | None = None
    src: str | None = None
    onlink: bool = False
    mtu: int | None = None

    def __str__(self) -> str:
        parts = [self.dst, "via", self.via, "dev", self.dev]
        if self.proto:
            parts += ["proto", self.proto]
        if self.src:
            parts += ["src", self.src]
        if self.onlink:
            parts.append("onlink")
        if self.mtu:
            parts += ["mtu", str(self.mtu)]
        return " ".join(parts)


def flavour(name: str) -> Flavour:
    """Look a flavour up by name, saying which exist when it is unknown."""
    try:
        return FLAVOURS[name]
    except KeyError:
        raise ValueError(
            f"unknown CNI flavour {name!r}: choose one of {', '.join(sorted(FLAVOURS))}"
        ) from None


def router_ip(pod_cidr: str) -> str:
    """Return the node-side address of a podCIDR: flannel's cni0, cilium's cilium_host (first host)."""
    return str(IPv4Network(pod_cidr).network_address + 1)


def pod_interface(name: str, *, namespace: str, pod: str, container_id: str) -> str:
    """Return the host-side interface name a pod's sandbox gets under flavour ``name``."""
    f = flavour(name)
    key = f"{namespace}.{pod}" if f.pod_hash_key == "namespace.name" else container_id
    digest = hashlib.new(f.pod_hash, key.encode()).hexdigest()
    return f.pod_prefix + digest[: f.pod_hex_digits]


def routes(name: str, *, node: str, nodes: Iterable[tuple[str, str, str]]) -> list[Route]:
    """Return the routes ``node`` holds to every other node's podCIDR, ordered by destination.

    ``nodes`` are ``(name, nodeIP, podCIDR)`` triples and must include ``node`` itself; nodes
    without a podCIDR yet get no route, as with the real plugins.
    """
    f = flavour(name)
    table = [NodeNet(*n) for n in nodes]
    local = next((n for n in table if n.name == node), None)
    if local is None:
        raise ValueError(f"node {node!r} is not among the nodes given; pass every node including itself")
    if f.route_via == "local_router" and not local.pod_cidr:
        raise ValueError(f"node {node!r} has no podCIDR yet, so {f.name} has no cilium_host address")
    remote = sorted(
        (n for n in table if n.name != node and n.pod_cidr), key=lambda n: IPv4Network(n.pod_cidr)
    )
    return [_route(f, local=local, remote=n) for n in remote]


def _route(f: Flavour, *, local: NodeNet, remote: NodeNet) -> Route:
    via = {
        "subnet": lambda: str(IPv4Network(remote.pod_cidr).network_address),
        "node_ip": lambda: remote.ip,
        "local_router": lambda: router_ip(local.pod_cidr),
    }[f.route_via]()
    return Route(
        dst=str(IPv4Network(remote.pod_cidr)),
        via=via,
        dev=f.route_dev,
        proto=f.route_proto,
        src=via if f.route_src else None,
        onlink=f.route_onlink,
        mtu=f.route_mtu,
    )
