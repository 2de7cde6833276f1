"""Pure arithmetic of the node IPAM range allocator.

Mirrors ``pkg/controller/nodeipam/ipam/cidrset`` (carving a cluster CIDR into equal node
subnets) as used by ``range_allocator.go``.  Simplified: upstream remembers where it last
allocated and searches onward from there; a freshly started allocator (which is what a pure
function is) starts at the first subnet, so this returns the lowest free one.  IPv4 and IPv6
both work; dual-stack is left to the caller (one call per family).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

DEFAULT_CLUSTER_CIDR = "10.244.0.0/16"
DEFAULT_NODE_MASK_V4 = 24


class CIDRRangeExhausted(Exception):
    """Raised when every node subnet of the cluster CIDR is taken."""


def node_subnet_count(cluster_cidr: str, mask: int) -> int:
    """Return how many node subnets of size ``/mask`` fit in the cluster CIDR."""
    network = ipaddress.ip_network(cluster_cidr, strict=True)
    if mask < network.prefixlen or mask > network.max_prefixlen:
        raise ValueError(f"node mask /{mask} does not fit cluster CIDR {cluster_cidr}")
    return 1 << (mask - network.prefixlen)


def allocate_pod_cidr(
    cluster_cidr: str = DEFAULT_CLUSTER_CIDR, mask: int = DEFAULT_NODE_MASK_V4, *, used: Iterable[str] = ()
) -> str:
    """Return the lowest ``/mask`` subnet of the cluster CIDR that no node holds yet.

    ``used`` are the ``spec.podCIDR`` values already assigned (read from nodes on every
    sync, so a restarted controller never hands out a subnet twice).  Used subnets outside the
    cluster CIDR are ignored.
    """
    network = ipaddress.ip_network(cluster_cidr, strict=True)
    node_subnet_count(cluster_cidr, mask)
    taken = {ipaddress.ip_network(c, strict=False) for c in used}
    for subnet in network.subnets(new_prefix=mask):
        if subnet not in taken:
            return str(subnet)
    raise CIDRRangeExhausted(
        "CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range"
    )
