"""The virtual servers kube-proxy's IPVS mode programs, rendered as ``ipvsadm -Ln`` prints them.

Mirrors ``syncService``/``syncEndpoint`` in ``pkg/proxy/ipvs/proxier.go``: every service port
gets a virtual server on its cluster IP, and a NodePort service one more on each node IP
kube-proxy accepts NodePorts on; every ready endpoint is a real server (``Masq`` forwarding,
weight 1).  A service port without endpoints still gets its virtual server, with no real
servers behind it, as upstream does.  The text follows ipvsadm's ``list_all``: the three
header lines, services and destinations sorted as ``ipvs_sort_services``/``ipvs_sort_dests``
sort them, and ipvsadm's printf widths (including its trailing padding).

Simplified: no kube-ipvs0 dummy device, ipsets or the iptables rules IPVS mode still needs;
no session-affinity ``persistent`` flag, external or load-balancer IPs; connection counters
are always 0.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from kubeviz.proxy.model import ServicePort

IPVS_VERSION = "1.2.1"
IPVS_TABLE_SIZE = 4096
DEFAULT_SCHEDULER = "rr"

# ipvsadm sorts services by IP protocol number, not by name.
PROTOCOL_NUMBERS = {"TCP": 6, "UDP": 17, "SCTP": 132}


@dataclass(frozen=True)
class RealServer:
    """One destination behind a virtual server."""

    address: str
    port: int
    forward: str = "Masq"
    weight: int = 1
    active_conns: int = 0
    inactive_conns: int = 0


@dataclass(frozen=True)
class VirtualServer:
    """One IPVS service: protocol, address, port and scheduler, with its destinations."""

    protocol: str
    address: str
    port: int
    scheduler: str = DEFAULT_SCHEDULER
    real_servers: tuple[RealServer, ...] = field(default_factory=tuple)


def build_virtual_servers(
    service_ports: Sequence[ServicePort], *, node_ips: Sequence[str] = (), scheduler: str = DEFAULT_SCHEDULER
) -> list[VirtualServer]:
    """Return the virtual servers for ``service_ports``: cluster IPs, then NodePorts per node IP."""
    result: list[VirtualServer] = []
    for sp in service_ports:
        reals = tuple(RealServer(address=ep.ip, port=ep.port) for ep in sp.endpoints)
        addresses = [(sp.cluster_ip, sp.port)]
        if sp.node_port:
            addresses += [(ip, sp.node_port) for ip in node_ips]
        for address, port in addresses:
            result.append(
                VirtualServer(
                    protocol=sp.protocol, address=address, port=port, scheduler=scheduler, real_servers=reals
                )
            )
    return result


def render_ipvsadm(virtual_servers: Sequence[VirtualServer]) -> str:
    """Return ``ipvsadm -Ln`` output for ``virtual_servers``."""
    lines = [
        f"IP Virtual Server version {IPVS_VERSION} (size={IPVS_TABLE_SIZE})",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
    ]
    for vs in sorted(virtual_servers, key=_service_sort_key):
        lines.append(f"{vs.protocol}  {_host_port(vs.address, vs.port)} {vs.scheduler}")
        for rs in sorted(vs.real_servers, key=lambda r: (_address_key(r.address), r.port)):
            dest = _host_port(rs.address, rs.port)
            lines.append(
                f"  -> {dest:<28} {rs.forward:<7} {rs.weight:<6} {rs.active_conns:<10} {rs.inactive_conns:<10}"
            )
    return "\n".join(lines) + "\n"


def _service_sort_key(vs: VirtualServer) -> tuple[int, tuple[int, int], int]:
    """Order services as ipvsadm's ``ipvs_cmp_services``: protocol number, address, port."""
    return (PROTOCOL_NUMBERS.get(vs.protocol, 255), _address_key(vs.address), vs.port)


def _address_key(address: str) -> tuple[int, int]:
    """Return a numeric sort key for an IP address (10.0.0.9 before 10.0.0.10)."""
    ip = ipaddress.ip_address(address)
    return (ip.version, int(ip))


def _host_port(address: str, port: int) -> str:
    """Return ``addr:port``, bracketing IPv6 addresses as ipvsadm does."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
