"""The node IPAM controller's loop: give each node without ``spec.podCIDR`` a subnet of its own.

Mirrors the range allocator of ``pkg/controller/nodeipam/ipam/range_allocator.go``.  Upstream
keeps the taken subnets in an in-memory ``cidrset`` that its single process marks before it
patches the node, so two nodes never get the same subnet even while the cache lags.  Here
reconciles run on several workers, so that memory is a Redis hash (subnet -> node), and a
subnet is claimed with ``HSETNX``: only one node can win it.  A claim whose node has not
shown its ``podCIDR`` in the cache yet is patched again with the same subnet (the patch is
idempotent), and claims of deleted nodes are released.

Events are upstream's: ``CIDRNotAvailable`` when the cluster CIDR is exhausted,
``CIDRAssignmentFailed`` when the node cannot be patched.
"""

from __future__ import annotations

from typing import Any

import redis
from django.conf import settings

from kubeviz.client.rest import NODES, APIStatusError
from kubeviz.controllers.base import Context, Controller, Watch
from kubeviz.controllers.nodeipam.helpers import CIDRRangeExhausted, allocate_pod_cidr
from kubeviz.controllers.objects import meta, spec

Obj = dict[str, Any]

# KEYS: claims.  ARGV: cidr, node.  Delete the claim only if that node still holds it.
_RELEASE = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""


class CIDRClaims:
    """The node subnets handed out in one cluster, shared by every worker (upstream's ``cidrset``)."""

    def __init__(self, *, cluster: str, client: redis.Redis) -> None:
        self._redis = client
        self._hash = f"{settings.KUBEVIZ_REDIS_PREFIX}:cidrs:{cluster}"

    def all(self) -> dict[str, str]:
        """Return every claim, subnet -> node."""
        return {k.decode(): v.decode() for k, v in self._redis.hgetall(self._hash).items()}

    def claim(self, cidr: str, node: str) -> bool:
        """Claim a subnet for a node; False if another node holds it."""
        if self._redis.hsetnx(self._hash, cidr, node):
            return True
        holder = self._redis.hget(self._hash, cidr)
        return holder is not None and holder.decode() == node

    def release(self, cidr: str, node: str) -> None:
        """Free a subnet, unless somebody else has claimed it meanwhile."""
        self._redis.eval(_RELEASE, 1, self._hash, cidr, node)


#: How often a node that found the range full looks again (upstream retries with backoff).
EXHAUSTED_RETRY_SECONDS = 30.0


def node_cidrs(node: Obj) -> list[str]:
    """Return the pod subnets a node already has."""
    return list(spec(node).get("podCIDRs") or ([spec(node)["podCIDR"]] if spec(node).get("podCIDR") else []))


def sync(ctx: Context, key: str) -> None:
    """Give one node a pod subnet if it has none, and keep the claims in step with the nodes."""
    claims = CIDRClaims(cluster=ctx.cluster, client=ctx.cache.redis)
    # Claims first, nodes second: a claim is only made for a node already cached, so every
    # holder in this snapshot is in the node list read after it, unless it was deleted.
    held = claims.all()
    nodes = {meta(n)["name"]: n for n in ctx.lister(NODES).list()}
    for cidr, holder in held.items():
        if holder not in nodes or (node_cidrs(nodes[holder]) and cidr not in node_cidrs(nodes[holder])):
            claims.release(cidr, holder)  # the node is gone, or got its subnet some other way
    node = nodes.get(key)
    if node is None:
        return
    if node_cidrs(node):
        for cidr in node_cidrs(node):
            claims.claim(cidr, key)  # occupy what it has, as upstream does for nodes it finds
        return
    # A subnet claimed earlier whose patch the cache has not shown yet is patched again.
    claimed = next((c for c, holder in held.items() if holder == key), None)
    cidr = claimed or _allocate(ctx, claims, node=node, nodes=nodes)
    if cidr is None:
        ctx.requeue_after(key, EXHAUSTED_RETRY_SECONDS)  # a node may be deleted and free one
        return
    try:
        ctx.client.patch(NODES, key, {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}})
    except APIStatusError as exc:
        if exc.is_not_found():
            claims.release(cidr, key)
            return
        _record(ctx, node, "CIDRAssignmentFailed")
        raise


def _allocate(ctx: Context, claims: CIDRClaims, *, node: Obj, nodes: dict[str, Obj]) -> str | None:
    """Claim the lowest subnet no node has and no other worker has claimed; None if none is left."""
    used = {c for n in nodes.values() for c in node_cidrs(n)} | set(claims.all())
    while True:
        try:
            cidr = allocate_pod_cidr(ctx.info.cluster_cidr, ctx.info.node_cidr_mask, used=used)
        except CIDRRangeExhausted:
            _record(ctx, node, "CIDRNotAvailable")
            return None
        if claims.claim(cidr, meta(node)["name"]):
            return cidr
        used.add(cidr)  # another worker won it a moment ago


def _record(ctx: Context, node: Obj, status: str) -> None:
    """Record a node status change event as upstream's ``RecordNodeStatusChange`` words it."""
    ctx.events.normal(node, status, f"Node {meta(node)['name']} status is now: {status}")


CONTROLLER = Controller(name="nodeipam", sync=sync, watches=(Watch(NODES),), event_source="cidrAllocator")
