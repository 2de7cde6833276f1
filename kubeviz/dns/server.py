"""coredns as a running server: answers from the Services and EndpointSlices one coredns pod watches.

Each running coredns pod holds its own informers (started by ``kubeviz.machines`` while the pod
runs), written into the shared cache ``coredns@<namespace>/<pod>``.  ``serve`` answers a query
from that cache with the ``kubernetes`` plugin's rules (``resolver.py``), so an answer is only
as fresh as that pod's watch, as on a real cluster.  A coredns pod that is not running has no
cache, and cannot answer.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from kubeviz.client import ENDPOINTSLICES, SERVICES
from kubeviz.client.sharedcache import SharedCache
from kubeviz.dns import resolver
from kubeviz.dns.resolver import Answer


def cache_component(pod_key: str) -> str:
    """Name the shared cache of the coredns pod ``namespace/name``."""
    return f"coredns@{pod_key}"


def ready(cluster: str, pod_key: str) -> bool:
    """Tell whether that coredns pod's informers have listed Services and EndpointSlices."""
    return SharedCache(cluster=cluster, component=cache_component(pod_key)).synced([SERVICES, ENDPOINTSLICES])


def serve(*, cluster: str, pod_key: str, name: str, from_namespace: str, qtype: str = "A") -> Answer | None:
    """Answer ``name`` asked from a pod in ``from_namespace``; None if that coredns has no cache."""
    cache = SharedCache(cluster=cluster, component=cache_component(pod_key))
    if not cache.synced([SERVICES, ENDPOINTSLICES]):
        return None
    return resolver.resolve(
        name,
        from_namespace=from_namespace,
        services=cache.lister(SERVICES).list(),
        slices=cache.lister(ENDPOINTSLICES).list(),
        qtype=qtype,
    )


def as_json(answer: Answer) -> dict[str, Any]:
    """Return an answer as the explorer API shows it, with every candidate name tried."""

    def record(r: resolver.Record) -> dict[str, Any]:
        return {k: v for k, v in asdict(r).items() if v is not None} | {"text": str(r)}

    return {
        "name": answer.name,
        "type": answer.qtype,
        "status": answer.status,
        "answers": [record(r) for r in answer.records],
        "additional": [record(r) for r in answer.extra],
        "tries": [
            {
                "name": t.name,
                "status": t.status,
                "answers": [record(r) for r in t.records],
                **({"note": t.note} if t.note else {}),
            }
            for t in answer.tries
        ],
        **({"note": answer.note} if answer.note else {}),
    }
