"""Allocate pod IPs from a node's podCIDR the way the host-local IPAM plugin does.

Mirrors ``containernetworking/plugins`` ``plugins/ipam/host-local/backend/allocator``: the range
runs from the network address + 1 to the broadcast address - 1, the gateway (network + 1, the
bridge's address) is never handed out, and allocation is round-robin: it starts just after the
last reserved IP and wraps around, so a crash-looping pod does not get its old IP straight back.

Simplified: one range per node (no range sets, no rangeStart/rangeEnd, no requested IPs), IPv4
only, and the on-disk store (one file per IP plus ``last_reserved_ip``) is the immutable ``Pool``
value instead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from ipaddress import IPv4Address, IPv4Network


class RangeFullError(Exception):
    """Every address of the range is allocated."""


@dataclass(frozen=True)
class HostLocalRange:
    """The usable addresses of one podCIDR: ``start``..``end`` inclusive, minus ``gateway``."""

    subnet: IPv4Network
    start: IPv4Address
    end: IPv4Address
    gateway: IPv4Address

    @classmethod
    def from_cidr(cls, cidr: str) -> HostLocalRange:
        """Canonicalise a podCIDR the way host-local's ``Range.Canonicalize`` does."""
        try:
            subnet = IPv4Network(cidr)
        except ValueError as err:
            raise ValueError(f"podCIDR {cidr!r} is not an IPv4 network address with a prefix: {err}") from err
        if subnet.prefixlen > 30:
            raise ValueError(f"podCIDR {cidr} is too small to allocate from: use a /30 or larger")
        first = subnet.network_address + 1
        return cls(subnet=subnet, start=first, end=subnet.broadcast_address - 1, gateway=first)

    @property
    def usable(self) -> int:
        return int(self.end) - int(self.start) + (0 if self.start <= self.gateway <= self.end else 1)

    def after(self, last: IPv4Address | None) -> Iterable[IPv4Address]:
        """Yield every usable address once, starting just after ``last`` and wrapping around."""
        size = int(self.end) - int(self.start) + 1
        offset = 0 if last is None or last not in self.subnet else int(last) - int(self.start) + 1
        for step in range(size):
            ip = IPv4Address(int(self.start) + (offset + step) % size)
            if ip != self.gateway:
                yield ip


def next_free_ip(pod_cidr: str, allocated: Iterable[str], *, last_reserved: str | None = None) -> str:
    """Return the address host-local would hand out next, or raise ``RangeFullError``."""
    r = HostLocalRange.from_cidr(pod_cidr)
    taken = {IPv4Address(ip) for ip in allocated}
    last = IPv4Address(last_reserved) if last_reserved else None
    for ip in r.after(last):
        if ip not in taken:
            return str(ip)
    raise RangeFullError(
        f"no IP addresses available in {r.subnet}: all {r.usable} addresses from {r.start} to {r.end} "
        f"except the gateway {r.gateway} are allocated; delete pods on this node or give it a larger podCIDR"
    )


@dataclass(frozen=True)
class Pool:
    """The allocator's state for one node: its podCIDR, the IPs in use and the last one reserved."""

    cidr: str
    allocated: frozenset[str] = field(default_factory=frozenset)
    last_reserved: str | None = None

    @property
    def gateway(self) -> str:
        return str(HostLocalRange.from_cidr(self.cidr).gateway)

    def allocate(self) -> tuple[str, Pool]:
        """Reserve the next free IP; return it with the new pool."""
        ip = next_free_ip(self.cidr, self.allocated, last_reserved=self.last_reserved)
        return ip, replace(self, allocated=self.allocated | {ip}, last_reserved=ip)

    def release(self, ip: str) -> Pool:
        """Free ``ip``.  Releasing an IP that is not allocated is a no-op, as in host-local's DEL.

        The last reserved IP is kept, so the freed address is not reused until the range wraps.
        """
        return replace(self, allocated=self.allocated - {str(ipaddress.ip_address(ip))})
