"""Pure arithmetic of the Endpoints controller: a Service's pods as v1 Endpoints subsets.

Mirrors ``pkg/controller/endpoint/endpoints_controller.go`` (``podToEndpointAddressForService``,
``addEndpointSubset``, ``endpointPortFromServicePort``, the labels it sets) and
``RepackSubsets`` of ``pkg/api/v1/endpoints``.

What is simplified: ports and subsets are sorted by name, number and first address instead
of upstream's object hashes (the order is stable either way), and Endpoints are never
truncated at 1000 addresses (the ``over-capacity`` annotation is only cleared), which a
simulated cluster does not reach.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from kubeviz.controllers.endpointslice.helpers import (
    HEADLESS_LABEL,
    address_types,
    find_port,
    is_pod_ready,
    pod_ip,
    should_pod_be_in_endpoints,
    should_set_hostname,
    target_ref,
)
from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import spec as _spec

Obj = Mapping[str, Any]

LABEL_MANAGED_BY = "endpoints.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpoint-controller"
OVER_CAPACITY_ANNOTATION = "endpoints.kubernetes.io/over-capacity"


def endpoint_address(pod: Obj, service: Obj) -> dict[str, Any] | None:
    """Return the address a pod gets in a Service's Endpoints, or None if it has no IP of the family."""
    ip = pod_ip(pod, address_types(service)[0])
    if ip is None:
        return None
    address: dict[str, Any] = {"ip": ip}
    if should_set_hostname(pod, service):
        address["hostname"] = _spec(pod)["hostname"]
    if _spec(pod).get("nodeName"):
        address["nodeName"] = _spec(pod)["nodeName"]
    address["targetRef"] = target_ref(pod)
    return address


def endpoint_port(service_port: Obj, number: int) -> dict[str, Any]:
    """Return the EndpointPort of a Service port resolved to ``number`` on a pod."""
    port: dict[str, Any] = {}
    if service_port.get("name"):
        port["name"] = service_port["name"]
    port["port"] = number
    port["protocol"] = service_port.get("protocol") or "TCP"
    if service_port.get("appProtocol"):
        port["appProtocol"] = service_port["appProtocol"]
    return port


Entry = tuple[dict[str, Any], dict[str, Any] | None, bool]


def endpoint_entries(service: Obj, pods: Iterable[Obj]) -> list[Entry]:
    """List (address, port, ready) for every selected pod and Service port it resolves.

    A headless Service without ports lists its pods with no port (``None``).  Pods being
    deleted are left out unless the Service publishes not-ready addresses, and then they
    count as ready, as upstream has it.
    """
    publish = bool(_spec(service).get("publishNotReadyAddresses"))
    service_ports = _spec(service).get("ports") or []
    out: list[Entry] = []
    for pod in pods:
        if not should_pod_be_in_endpoints(pod, include_terminating=publish):
            continue
        address = endpoint_address(pod, service)
        if address is None:
            continue
        ready = publish or is_pod_ready(pod)
        if not service_ports:
            if _spec(service).get("clusterIP") == "None":
                out.append((address, None, ready))
            continue
        for service_port in service_ports:
            number = find_port(pod, service_port)
            if number is not None:
                out.append((address, endpoint_port(service_port, number), ready))
    return out


def _port_key(port: Obj) -> tuple[str, int, str, str]:
    return (
        port.get("name") or "",
        int(port["port"]),
        port.get("protocol") or "TCP",
        port.get("appProtocol") or "",
    )


def _address_key(address: Obj) -> tuple[str, str]:
    return (address["ip"], (address.get("targetRef") or {}).get("uid") or "")


def repack_subsets(entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """Group addresses offering the same ports into one subset each (``RepackSubsets``).

    Within a subset, ready addresses go to ``addresses`` and the rest to
    ``notReadyAddresses``, each sorted by IP then pod uid; empty lists are left out, as the
    API's ``omitempty`` does.
    """
    addresses: dict[tuple[str, str], dict[str, Any]] = {}
    ports: dict[tuple[str, str], dict[tuple[str, int, str, str], dict[str, Any]]] = {}
    ready: dict[tuple[str, str], bool] = {}
    for address, port, is_ready in entries:
        key = _address_key(address)
        addresses[key] = address
        offered = ports.setdefault(key, {})
        if port is not None:
            offered[_port_key(port)] = port
        ready[key] = ready.get(key, False) or is_ready
    groups: dict[tuple[tuple[str, int, str, str], ...], list[tuple[str, str]]] = {}
    for key in addresses:
        groups.setdefault(tuple(sorted(ports[key])), []).append(key)
    subsets: list[dict[str, Any]] = []
    for port_keys, members in groups.items():
        members.sort()
        subset: dict[str, Any] = {}
        ready_list = [addresses[k] for k in members if ready[k]]
        not_ready = [addresses[k] for k in members if not ready[k]]
        if ready_list:
            subset["addresses"] = ready_list
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        if port_keys:
            subset["ports"] = [ports[members[0]][p] for p in port_keys]
        subsets.append(subset)
    subsets.sort(key=lambda s: ([_port_key(p) for p in s.get("ports") or []], _first_ip(s)))
    return subsets


def _first_ip(subset: Obj) -> str:
    found = (subset.get("addresses") or []) + (subset.get("notReadyAddresses") or [])
    return found[0]["ip"] if found else ""


def endpoints_labels(service: Obj) -> dict[str, str]:
    """Return the Endpoints' labels: the Service's, plus who manages them and headlessness."""
    reserved = {LABEL_MANAGED_BY, HEADLESS_LABEL}
    labels = {k: v for k, v in (_meta(service).get("labels") or {}).items() if k not in reserved}
    labels[LABEL_MANAGED_BY] = CONTROLLER_NAME
    if _spec(service).get("clusterIP") in (None, "", "None"):  # upstream's !IsServiceIPSet
        labels[HEADLESS_LABEL] = ""
    return labels


def _without_versions(subsets: Iterable[Obj]) -> list[Any]:
    """Drop targetRef resourceVersions, which change with every pod write and mean nothing here."""
    out = []
    for subset in subsets:
        copy = dict(subset)
        for field in ("addresses", "notReadyAddresses"):
            if field in copy:
                copy[field] = [
                    {
                        **a,
                        "targetRef": {
                            k: v for k, v in (a.get("targetRef") or {}).items() if k != "resourceVersion"
                        },
                    }
                    if "targetRef" in a
                    else a
                    for a in copy[field]
                ]
        out.append(copy)
    return out


def endpoints_current(endpoints: Obj, *, subsets: list[dict[str, Any]], labels: Mapping[str, str]) -> bool:
    """Tell whether existing Endpoints already say what they should (no write needed)."""
    return (
        _without_versions(endpoints.get("subsets") or []) == _without_versions(subsets)
        and (_meta(endpoints).get("labels") or {}) == dict(labels)
        and OVER_CAPACITY_ANNOTATION not in (_meta(endpoints).get("annotations") or {})
    )
