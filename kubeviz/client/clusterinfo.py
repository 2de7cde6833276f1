"""What a component needs to know about its cluster beyond the API: speed, masters, CIDRs.

The control-plane process reads each cluster from the explorer API (``GET /api/clusters``)
and publishes it here, in Redis, for the workers that reconcile on its behalf.  A cluster
with no published record is one whose control plane is not running, and its keys are dropped.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import orjson
import redis
from django.conf import settings

from kubeviz.client.rest import Client
from kubeviz.client.sharedcache import default_redis

CLUSTER_CIDR = "10.244.0.0/16"
SERVICE_CIDR = "10.96.0.0/12"
NODE_CIDR_MASK = 24


@dataclass(frozen=True)
class ClusterInfo:
    """One cluster as its components see it."""

    name: str
    uid: str = ""
    masters: int = 1
    workers: int = 0
    speed: float = 1.0
    masters_schedulable: bool = False
    cni: str = "flannel"
    proxy_mode: str = "iptables"
    cluster_cidr: str = CLUSTER_CIDR
    node_cidr_mask: int = NODE_CIDR_MASK

    @classmethod
    def from_explorer(cls, body: Mapping[str, Any]) -> ClusterInfo:
        """Build from the explorer API's JSON for a cluster."""
        return cls(
            name=body["name"],
            uid=body.get("uid", ""),
            masters=int(body.get("masters", 1)),
            workers=int(body.get("workers", 0)),
            speed=float(body.get("speed", 1.0)),
            masters_schedulable=bool(body.get("mastersSchedulable", False)),
            cni=str(body.get("cni", "flannel")),
            proxy_mode=str(body.get("proxyMode", "iptables")),
        )

    def master_names(self) -> list[str]:
        """Name the master machines, as kubeadm would: ``master-1`` …"""
        return [f"master-{i}" for i in range(1, self.masters + 1)]


def api_url() -> str:
    """Return the base URL of kubeviz's HTTP API, as components reach it."""
    return settings.KUBEVIZ_API_URL.rstrip("/")


@cache
def client_for(cluster: str, component: str, name: str | None) -> Client:
    """Return the shared client of one identity in one cluster (thread-safe, pooled)."""
    return Client(f"{api_url()}/k8s/{cluster}", component=component, name=name)


def _key(name: str) -> str:
    return f"{settings.KUBEVIZ_REDIS_PREFIX}:clusterinfo:{name}"


def publish(info: ClusterInfo, *, client: redis.Redis | None = None) -> None:
    """Record a cluster for the workers."""
    (client or default_redis()).set(_key(info.name), orjson.dumps(info.__dict__))


def withdraw(name: str, *, client: redis.Redis | None = None) -> None:
    """Forget a cluster: its queued keys will be dropped."""
    (client or default_redis()).delete(_key(name))


#: Where components keep per-cluster state in Redis (``{prefix}:{area}:{cluster}`` and below).
CLUSTER_STATE_AREAS = (
    "actions",
    "alive",
    "cache",
    "cidrs",
    "dsbackoff",
    "events",
    "expect",
    "expect-finalizers",
    "job-backoff",
    "sched",
    "schedq",
)


def forget(name: str, *, client: redis.Redis | None = None) -> int:
    """Delete everything the components kept in Redis for a deleted cluster; return how many keys."""
    r = client or default_redis()
    withdraw(name, client=r)
    deleted = 0
    for area in CLUSTER_STATE_AREAS:
        base = f"{settings.KUBEVIZ_REDIS_PREFIX}:{area}:{name}"
        deleted += r.delete(base)
        batch = list(r.scan_iter(match=f"{base}:*", count=500))
        for i in range(0, len(batch), 500):
            deleted += r.delete(*batch[i : i + 500])
    return deleted


def cluster_info(name: str, *, client: redis.Redis | None = None) -> ClusterInfo | None:
    """Return the published record of a cluster, or None."""
    raw = (client or default_redis()).get(_key(name))
    return None if raw is None else ClusterInfo(**orjson.loads(raw))


def published(*, client: redis.Redis | None = None) -> list[ClusterInfo]:
    """Return every published cluster, by name."""
    r = client or default_redis()
    prefix = _key("")
    names = sorted(k.decode()[len(prefix) :] for k in r.scan_iter(match=prefix + "*", count=200))
    found = [cluster_info(name, client=r) for name in names]
    return [info for info in found if info is not None]


def wanted(only: set[str] | None, name: str) -> bool:
    """Tell whether a process limited to ``only`` (names or shell-style patterns) serves ``name``."""
    return only is None or any(fnmatch.fnmatchcase(name, pattern) for pattern in only)
