"""Services and EndpointSlices turned into the service ports kube-proxy programs.

Mirrors ``pkg/proxy/servicechangetracker.go`` (``serviceToServiceMap``, which skips services
``ShouldSkipService`` rejects), ``pkg/proxy/endpointschangetracker.go`` and
``pkg/proxy/endpointslicecache.go`` (which groups slice endpoints by ``ServicePortName``,
i.e. namespace, service name, port name and protocol, and keeps only one address per
endpoint).  The result is what the rule renderers in ``iptables.py`` and ``ipvs.py`` read.

Simplified: this is a full recompute from lists, not the incremental change trackers; only
ready endpoints are kept (upstream falls back to serving-terminating endpoints when none are
ready); traffic policies, topology hints, session affinity, external IPs and load-balancer
IPs are not modelled; one IP family (the service's ``spec.clusterIP``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

SERVICE_NAME_LABEL = "kubernetes.io/service-name"

Object = Mapping[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One backend of a service port: an address and the slice port's number."""

    ip: str
    port: int
    node_name: str | None = None
    is_local: bool = False

    def __str__(self) -> str:
        """Return ``ip:port`` as ``net.JoinHostPort`` does (brackets for IPv6)."""
        host = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class ServicePort:
    """One port of one Service, with the ready endpoints that back it."""

    namespace: str
    name: str
    port_name: str
    protocol: str
    cluster_ip: str
    port: int
    node_port: int = 0
    endpoints: tuple[Endpoint, ...] = field(default_factory=tuple)

    @property
    def service_port_name(self) -> str:
        """Return ``ns/name:port`` as ``ServicePortName.String()`` does (no ``:`` if unnamed)."""
        suffix = f":{self.port_name}" if self.port_name else ""
        return f"{self.namespace}/{self.name}{suffix}"


def should_skip_service(service: Object) -> bool:
    """Tell whether kube-proxy ignores a service: headless, ExternalName or without a clusterIP."""
    spec = service.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return True
    cluster_ip = spec.get("clusterIP") or ""
    return cluster_ip in ("", "None")


def build_service_ports(
    services: Iterable[Object], endpoint_slices: Iterable[Object], *, node_name: str
) -> list[ServicePort]:
    """Return every proxied service port with its endpoints, sorted by service port name."""
    endpoints = endpoints_by_service_port(endpoint_slices, node_name=node_name)
    result: list[ServicePort] = []
    for service in services:
        if should_skip_service(service):
            continue
        meta, spec = service.get("metadata") or {}, service.get("spec") or {}
        namespace, name = meta.get("namespace") or "default", meta["name"]
        for port in spec.get("ports") or []:
            port_name = port.get("name") or ""
            protocol = port.get("protocol") or "TCP"
            key = (namespace, name, port_name, protocol)
            result.append(
                ServicePort(
                    namespace=namespace,
                    name=name,
                    port_name=port_name,
                    protocol=protocol,
                    cluster_ip=spec["clusterIP"],
                    port=int(port["port"]),
                    node_port=int(port.get("nodePort") or 0),
                    endpoints=tuple(endpoints.get(key, ())),
                )
            )
    result.sort(key=lambda sp: (sp.service_port_name, sp.protocol))
    return result


EndpointKey = tuple[str, str, str, str]


def endpoints_by_service_port(
    endpoint_slices: Iterable[Object], *, node_name: str
) -> dict[EndpointKey, list[Endpoint]]:
    """Group ready slice endpoints by (namespace, service, port name, protocol).

    Endpoints are deduplicated across slices (a local copy wins, as in upstream's
    ``addEndpoints``) and sorted by their ``ip:port`` string, as upstream's ``byEndpoint`` does,
    so the rendered rules do not depend on the order slices arrive in.  A slice port without a
    name counts as the unnamed port (upstream ignores a nil name; the API server stores ``""``).
    """
    grouped: dict[EndpointKey, dict[str, Endpoint]] = {}
    for eps in endpoint_slices:
        meta = eps.get("metadata") or {}
        service_name = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL)
        if not service_name or eps.get("addressType") == "FQDN":
            continue
        namespace = meta.get("namespace") or "default"
        for slice_port in eps.get("ports") or []:
            if slice_port.get("port") is None:
                continue
            key = (namespace, service_name, slice_port.get("name") or "", slice_port.get("protocol") or "TCP")
            bucket = grouped.setdefault(key, {})
            for endpoint in _ready_endpoints(eps, port=int(slice_port["port"]), node_name=node_name):
                if str(endpoint) not in bucket or endpoint.is_local:
                    bucket[str(endpoint)] = endpoint
    return {key: sorted(bucket.values(), key=str) for key, bucket in grouped.items()}


def _ready_endpoints(eps: Object, *, port: int, node_name: str) -> Iterable[Endpoint]:
    """Yield the slice's endpoints whose ``ready`` condition is not false, first address only."""
    for endpoint in eps.get("endpoints") or []:
        if (endpoint.get("conditions") or {}).get("ready") is False:
            continue
        addresses = endpoint.get("addresses") or []
        if not addresses:
            continue
        ep_node = endpoint.get("nodeName")
        yield Endpoint(ip=addresses[0], port=port, node_name=ep_node, is_local=ep_node == node_name)
