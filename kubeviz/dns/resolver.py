"""Answer cluster DNS questions the way CoreDNS's ``kubernetes`` plugin does, as pure functions.

Mirrors coredns ``plugin/kubernetes``: ``parse.go`` (``parseRequest``: the shapes
``[_port._proto.|endpoint.]service.namespace.svc.zone`` and ``ip.namespace.pod.zone``),
``kubernetes.go`` (``Records``, ``findServices``, ``findPods``, ``endpointHostname``) and
``reverse.go`` (``serviceRecordForIP``), plus the record building of ``plugin/backend_lookup.go``
(``A``, ``SRV`` weights, ``PTR``) and the client side: a pod's resolv.conf search path and
``ndots:5`` as glibc's ``res_search`` walks them.

Contract: input is Kubernetes JSON dicts (Services, EndpointSlices), the querying pod's namespace
and the cluster domain; output is an ``Answer`` whose ``tries`` list every candidate name in the
order the stub resolver asked, each with its own status and records, so a reader can see why a
name resolved or did not. Nothing here does I/O or keeps state.

Behaviours kept from upstream:

- A ClusterIP Service answers with its ClusterIP whether or not it has endpoints.
- A headless Service (``clusterIP: None``) answers with its *ready* endpoint addresses (an endpoint
  whose ``ready`` condition is unset counts as ready); with none ready the name is NXDOMAIN.
- ``endpoint.service.ns.svc.zone`` matches an endpoint's ``hostname``, else its dashed IP
  (``10-244-1-5``), for any Service type.
- ExternalName answers a CNAME (not when ``externalName`` is an IP address); an in-cluster target
  is chased, an outside one is left to the upstream resolver.
- SRV: priority 0, weight ``floor(100 / n)`` for the ``n`` matching records, target
  ``service.ns.svc.zone.`` or ``endpoint.service.ns.svc.zone.`` for headless; the targets' A
  records go in ``extra`` (the additional section).
- PTR: a ClusterIP maps to ``service.ns.svc.zone.``; otherwise every ready endpoint with that IP,
  of any Service, maps to ``endpoint.service.ns.svc.zone.``.
- ``pods insecure`` (the kubeadm default): ``1-2-3-4.ns.pod.zone`` answers ``1.2.3.4``.

Simplified: IPv4 only (no AAAA, ``ip6.arpa``), no ``endpoint_pod_names``, multicluster, zonal
names, TTLs, wildcards or ``ignore empty_service``; a namespace "exists" when the querying pod or
any Service or EndpointSlice lives in it; anything outside the cluster domain, and reverse names
no Service knows (``fallthrough in-addr.arpa``), is marked as forwarded upstream, not simulated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CLUSTER_DOMAIN = "cluster.local"
NDOTS = 5
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
SUPPORTED_QTYPES = ("A", "SRV", "PTR")

NOERROR = "NOERROR"
NODATA = "NODATA"  # NOERROR with an empty answer: the name exists, not with this type
NXDOMAIN = "NXDOMAIN"
FORWARDED = "FORWARDED"
FORWARDED_NOTE = "forwarded upstream: not simulated"

_REVERSE_ZONE = "in-addr.arpa"
_MAX_CNAME_CHAIN = 8  # backend_lookup.go stops following CNAMEs after 8


@dataclass(frozen=True)
class Record:
    """One resource record; ``name`` and name-valued ``value`` are fully qualified."""

    name: str
    type: str
    value: str
    priority: int | None = None
    weight: int | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.type == "SRV":
            return f"{self.name} SRV {self.priority} {self.weight} {self.port} {self.value}"
        return f"{self.name} {self.type} {self.value}"


@dataclass(frozen=True)
class Try:
    """One fully qualified name the stub resolver asked, and what the server said."""

    name: str
    status: str
    records: tuple[Record, ...] = ()
    extra: tuple[Record, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Answer:
    """The outcome of a lookup as the pod sees it, with every try that led there."""

    name: str
    qtype: str
    status: str
    records: tuple[Record, ...] = ()
    extra: tuple[Record, ...] = ()
    tries: tuple[Try, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class Request:
    """A cluster-domain name taken apart as ``parseRequest`` does; ``kind`` is "svc", "pod" or ""."""

    kind: str = ""
    namespace: str = ""
    service: str = ""
    endpoint: str = ""
    port: str = ""
    protocol: str = ""


@dataclass(frozen=True)
class EndpointAddress:
    """A ready endpoint address with the ports of its slice; ``(name, protocol, port)`` each."""

    ip: str
    hostname: str = ""
    ports: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class _Found:
    """What ``findServices`` yields (coredns's ``msg.Service``): a host (IP or name) at an owner."""

    host: str
    port: int
    owner: str


@dataclass(frozen=True)
class _Cluster:
    services: tuple[Mapping[str, Any], ...]
    slices: tuple[Mapping[str, Any], ...]
    namespaces: frozenset[str]
    domain: str


# --- the client side: resolv.conf --------------------------------------------------------------


def search_path(namespace: str, *, domain: str = CLUSTER_DOMAIN) -> tuple[str, ...]:
    """Return the search list kubelet writes into a ClusterFirst pod's resolv.conf."""
    return (f"{namespace}.svc.{domain}", f"svc.{domain}", domain)


def candidates(name: str, *, namespace: str, domain: str = CLUSTER_DOMAIN, ndots: int = NDOTS) -> list[str]:
    """Return the fully qualified names a stub resolver tries for ``name``, in order.

    A trailing dot means "already absolute": asked as is, once. Otherwise glibc's rule: fewer than
    ``ndots`` dots tries every search suffix first and the bare name last; at least ``ndots`` dots
    tries the bare name first.
    """
    if name.endswith("."):
        return [name]
    searched = [f"{name}.{suffix}." for suffix in search_path(namespace, domain=domain)]
    if name.count(".") >= ndots:
        return [f"{name}.", *searched]
    return [*searched, f"{name}."]


def resolve(
    name: str,
    *,
    from_namespace: str,
    services: Iterable[Mapping[str, Any]],
    slices: Iterable[Mapping[str, Any]],
    qtype: str = "A",
    domain: str = CLUSTER_DOMAIN,
) -> Answer:
    """Resolve ``name`` from a pod in ``from_namespace``, walking the search path like the pod would.

    Stops at the first try that answers with records; an empty answer (NODATA) keeps searching, as
    glibc does. Without an answer the status is NODATA if any try said so, else the last try's.
    """
    qtype = qtype.upper()
    if qtype not in SUPPORTED_QTYPES:
        raise ValueError(f"query type {qtype!r} is not simulated; use one of {', '.join(SUPPORTED_QTYPES)}")
    cluster = _cluster(services=services, slices=slices, from_namespace=from_namespace, domain=domain)
    tries: list[Try] = []
    for fqdn in candidates(name.lower(), namespace=from_namespace, domain=domain):
        attempt = _lookup(fqdn, qtype=qtype, cluster=cluster)
        tries.append(attempt)
        if attempt.records:
            return Answer(
                name=name, qtype=qtype, status=NOERROR, records=attempt.records, extra=attempt.extra,
                tries=tuple(tries), note=attempt.note,
            )  # fmt: skip
    status = NODATA if any(t.status == NODATA for t in tries) else tries[-1].status
    return Answer(name=name, qtype=qtype, status=status, tries=tuple(tries), note=tries[-1].note)


def lookup(
    fqdn: str,
    *,
    qtype: str,
    services: Iterable[Mapping[str, Any]],
    slices: Iterable[Mapping[str, Any]],
    domain: str = CLUSTER_DOMAIN,
) -> Try:
    """Answer one fully qualified name as the CoreDNS server would, without any search path."""
    cluster = _cluster(services=services, slices=slices, from_namespace="", domain=domain)
    return _lookup(fqdn.lower(), qtype=qtype.upper(), cluster=cluster)


# --- the server side: coredns plugin/kubernetes --------------------------------------------------


def parse_request(name: str, *, domain: str = CLUSTER_DOMAIN) -> Request | None:
    """Split a name inside ``domain`` into its parts; ``None`` when no Kubernetes name has that shape.

    Two labels left of ``service.namespace.svc`` are ``_port._protocol`` (underscores stripped),
    one is an endpoint; more is too long. Apex names (``svc.zone``, the zone itself) give kind "".
    """
    base = name.rstrip(".").removesuffix(domain).rstrip(".")
    if base in ("", "svc", "pod"):
        return Request()
    labels = base.split(".")
    kind = labels.pop()
    if kind not in ("svc", "pod"):
        return None
    parts = dict(zip(("namespace", "service"), reversed(labels), strict=False))
    rest = labels[:-2]
    if len(rest) == 1:
        parts["endpoint"] = rest[0]
    elif len(rest) == 2:
        parts["port"], parts["protocol"] = (label.removeprefix("_") for label in rest)
    elif len(rest) > 2:
        return None
    return Request(kind=kind, **parts)


def endpoint_hostname(address: EndpointAddress) -> str:
    """Return the DNS label of an endpoint: its hostname, else its IP with dashes for separators."""
    if address.hostname:
        return address.hostname
    return address.ip.replace(".", "-").replace(":", "-")


def ready_addresses(
    slices: Iterable[Mapping[str, Any]], *, service: str, namespace: str
) -> list[EndpointAddress]:
    """Return the ready addresses of a Service's EndpointSlices, each carrying its slice's ports.

    An endpoint whose ``ready`` condition is absent is ready (the EndpointSlice API says so). A
    slice without ports gets the sentinel port -1, as coredns's ``EndpointSliceToEndpoints`` does,
    so its addresses still answer A queries but never SRV.
    """
    found: list[EndpointAddress] = []
    for slice_ in slices:
        meta = slice_.get("metadata") or {}
        labels = meta.get("labels") or {}
        if meta.get("namespace") != namespace or labels.get(SERVICE_NAME_LABEL) != service:
            continue
        if slice_.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
            continue
        ports = tuple(
            (p.get("name") or "", p.get("protocol") or "TCP", int(p["port"]))
            for p in slice_.get("ports") or ()
            if p.get("port") is not None
        ) or (("", "", -1),)
        for endpoint in slice_.get("endpoints") or ():
            if (endpoint.get("conditions") or {}).get("ready") is False:
                continue
            hostname = endpoint.get("hostname") or ""
            found.extend(EndpointAddress(ip, hostname, ports) for ip in endpoint.get("addresses") or ())
    return found


def reverse_to_ip(name: str) -> str:
    """Return the IPv4 address a ``d.c.b.a.in-addr.arpa`` name stands for, or "" if it is not one."""
    base = name.rstrip(".").removesuffix(_REVERSE_ZONE).rstrip(".")
    octets = base.split(".")
    if len(octets) != 4:
        return ""
    try:
        return str(ipaddress.IPv4Address(".".join(reversed(octets))))
    except ValueError:
        return ""


def srv_weight(count: int) -> int:
    """Return the SRV weight coredns gives each of ``count`` equal records: ``floor(100/count)``, min 1."""
    return max(1, (100 * 100) // (100 * count)) if count else 100


def _cluster(
    *,
    services: Iterable[Mapping[str, Any]],
    slices: Iterable[Mapping[str, Any]],
    from_namespace: str,
    domain: str,
) -> _Cluster:
    services, slices = tuple(services), tuple(slices)
    namespaces = {(o.get("metadata") or {}).get("namespace", "") for o in (*services, *slices)}
    namespaces.add(from_namespace)
    namespaces.discard("")
    return _Cluster(services=services, slices=slices, namespaces=frozenset(namespaces), domain=domain)


def _in_zone(name: str, zone: str) -> bool:
    name = name.rstrip(".")
    return name == zone or name.endswith("." + zone)


def _lookup(fqdn: str, *, qtype: str, cluster: _Cluster, chain: int = 0) -> Try:
    """Answer one absolute name: reverse zone, forward zone, or the upstream resolver."""
    if _in_zone(fqdn, _REVERSE_ZONE):
        return _reverse(fqdn, qtype=qtype, cluster=cluster)
    if not _in_zone(fqdn, cluster.domain):
        return Try(fqdn, FORWARDED, note=FORWARDED_NOTE)
    request = parse_request(fqdn, domain=cluster.domain)
    if request is None:
        return Try(fqdn, NXDOMAIN, note="not a Kubernetes name: <svc>.<ns>.svc or <ip>.<ns>.pod")
    if not request.kind:
        return Try(fqdn, NODATA, note="zone apex")
    if request.namespace and request.namespace not in cluster.namespaces:
        return Try(fqdn, NXDOMAIN, note=f"no namespace {request.namespace!r}")
    if not request.service:
        return Try(fqdn, NODATA, note="namespace exists; no service named")
    found = (
        _find_pods(request, domain=cluster.domain)
        if request.kind == "pod"
        else _find_services(request, cluster=cluster)
    )
    if found is None:
        why = (
            f"no Service {request.service!r} in {request.namespace!r} with a matching port or ready endpoint"
        )
        return Try(fqdn, NXDOMAIN, note=why if request.kind == "svc" else "not a dashed IPv4 address")
    if qtype == "SRV":
        records, extra = _srv_records(fqdn, found=found)
        return Try(fqdn, NOERROR if records else NODATA, records, extra)
    if qtype == "A":
        return _a_records(fqdn, found=found, cluster=cluster, chain=chain)
    return Try(fqdn, NODATA)


def _find_pods(request: Request, *, domain: str) -> list[_Found] | None:
    """Mirror ``findPods`` in ``pods insecure`` mode: a dashed IPv4 address answers as itself."""
    ip = request.service.replace("-", ".") if request.service.count("-") == 3 else ""
    try:
        ipaddress.IPv4Address(ip)
    except ValueError:
        return None
    return [_Found(host=ip, port=0, owner=f"{request.service}.{request.namespace}.pod.{domain}.")]


def _find_services(request: Request, *, cluster: _Cluster) -> list[_Found] | None:
    """Mirror ``findServices``: ``None`` (NXDOMAIN) unless some Service matched the request."""
    found: list[_Found] = []
    matched = False
    key = (request.namespace, request.service)
    for svc in cluster.services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        if (meta.get("namespace", "").lower(), meta.get("name", "").lower()) != key:
            continue
        owner = f"{meta['name']}.{meta['namespace']}.svc.{cluster.domain}."
        if spec.get("type") == "ExternalName":
            target = spec.get("externalName") or ""
            if not request.endpoint and target and not _is_ip(target):
                found.append(_Found(host=target, port=0, owner=owner))
                matched = True
            continue
        if spec.get("clusterIP") == "None" or request.endpoint:
            for address in ready_addresses(cluster.slices, service=meta["name"], namespace=meta["namespace"]):
                label = endpoint_hostname(address)
                if request.endpoint and request.endpoint != label.lower():
                    continue
                for name, protocol, port in address.ports:
                    if _port_matches(request, name=name, protocol=protocol):
                        found.append(_Found(host=address.ip, port=port, owner=f"{label}.{owner}"))
                        matched = True
            continue
        ports = [
            (p.get("name") or "", p.get("protocol") or "TCP", int(p.get("port", -1)))
            for p in spec.get("ports") or ()
        ]
        for name, protocol, port in ports or [("", "", -1)]:
            if not _port_matches(request, name=name, protocol=protocol):
                continue
            matched = True
            cluster_ips = spec.get("clusterIPs") or [spec.get("clusterIP")]
            found.extend(_Found(host=ip, port=port, owner=owner) for ip in cluster_ips if ip)
    return found if matched else None


def _port_matches(request: Request, *, name: str, protocol: str) -> bool:
    """Match ``_port._protocol`` case-insensitively; an empty side of the request matches anything."""
    return (not request.port or request.port == name.lower()) and (
        not request.protocol or request.protocol == protocol.lower()
    )


def _a_records(fqdn: str, *, found: list[_Found], cluster: _Cluster, chain: int) -> Try:
    """Build A records (deduplicated by address) and CNAMEs, chasing in-cluster CNAME targets."""
    records: list[Record] = []
    notes: list[str] = []
    for item in found:
        if _is_ip(item.host):
            a = Record(fqdn, "A", item.host)
            if ipaddress.ip_address(item.host).version == 4 and a not in records:
                records.append(a)
            continue
        target = item.host.rstrip(".") + "."
        if target == fqdn or chain >= _MAX_CNAME_CHAIN:
            continue
        cname = Record(fqdn, "CNAME", target)
        if not _in_zone(target, cluster.domain):
            records.append(cname)
            notes.append(f"CNAME target {target} {FORWARDED_NOTE}")
            continue
        chased = _lookup(target, qtype="A", cluster=cluster, chain=chain + 1)
        if chased.records:
            records.extend([cname, *chased.records])
    return Try(fqdn, NOERROR if records else NODATA, tuple(records), note="; ".join(notes))


def _srv_records(fqdn: str, *, found: list[_Found]) -> tuple[tuple[Record, ...], tuple[Record, ...]]:
    """Build SRV records and their targets' A records, weights shared out as ``backend_lookup.SRV``."""
    weight = srv_weight(len(found))
    records: list[Record] = []
    extra: list[Record] = []
    for item in found:
        if item.port == -1:  # the no-ports sentinel
            continue
        target = item.owner if _is_ip(item.host) else item.host.rstrip(".") + "."
        srv = Record(fqdn, "SRV", target, priority=0, weight=weight, port=item.port)
        if srv not in records:
            records.append(srv)
        address = Record(target, "A", item.host)
        if _is_ip(item.host) and address not in extra:
            extra.append(address)
    return tuple(records), tuple(extra)


def _reverse(fqdn: str, *, qtype: str, cluster: _Cluster) -> Try:
    """Mirror ``serviceRecordForIP``: a ClusterIP first, else every ready endpoint with that IP."""
    ip = reverse_to_ip(fqdn)
    if qtype != "PTR" or not ip:
        return Try(fqdn, FORWARDED, note=FORWARDED_NOTE)
    for svc in cluster.services:
        meta, spec = svc.get("metadata") or {}, svc.get("spec") or {}
        if ip in (spec.get("clusterIPs") or [spec.get("clusterIP")]):
            target = f"{meta['name']}.{meta['namespace']}.svc.{cluster.domain}."
            return Try(fqdn, NOERROR, (Record(fqdn, "PTR", target),))
    records: list[Record] = []
    for slice_ in cluster.slices:
        meta = slice_.get("metadata") or {}
        service, namespace = (meta.get("labels") or {}).get(SERVICE_NAME_LABEL, ""), meta.get("namespace", "")
        for address in ready_addresses([slice_], service=service, namespace=namespace):
            name = f"{endpoint_hostname(address)}.{service}.{namespace}.svc.{cluster.domain}."
            ptr = Record(fqdn, "PTR", name)
            if service and address.ip == ip and ptr not in records:
                records.append(ptr)
    if not records:
        return Try(fqdn, FORWARDED, note=f"no Service or endpoint has {ip}; {FORWARDED_NOTE}")
    return Try(fqdn, NOERROR, tuple(records))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
