"""Admission: checks and allocations that need other objects, run before a write.

* NamespaceLifecycle — no new objects in a namespace that does not exist or is terminating.
* Service IP and port allocation — as kube-apiserver v1.33+ does with the
  ``networking.k8s.io/v1`` IPAddress objects: a ClusterIP is taken by creating the
  IPAddress named after it, so two Services can never get the same address (the create
  fails on the existing key).  NodePorts come from the 30000–32767 range.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

from kubeviz.apiserver import errors, registry, storage
from kubeviz.apiserver.errors import APIError, Cause
from kubeviz.apiserver.registry import Resource
from kubeviz.store.models import Cluster

Obj = dict[str, Any]

SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/12")
NODE_PORT_RANGE = (30000, 32767)
_ALLOCATION_TRIES = 64


def check_namespace(cluster: Cluster, resource: Resource, namespace: str) -> None:
    """Refuse writes into a missing or terminating namespace."""
    if not resource.namespaced:
        return
    ns_res = registry.lookup("", "v1", "namespaces")
    assert ns_res is not None
    ns = storage.get_or_none(cluster, ns_res, "", namespace)
    if ns is None:
        raise errors.not_found("namespaces", namespace)
    if ns.get("status", {}).get("phase") == "Terminating" or ns["metadata"].get("deletionTimestamp"):
        raise APIError(
            403,
            "Forbidden",
            f"{resource.resource} is forbidden: unable to create new content in namespace {namespace} "
            "because it is being terminated",
            kind=resource.resource,
            group=resource.group,
        )


def _ip_resource() -> Resource:
    res = registry.lookup("networking.k8s.io", "v1", "ipaddresses")
    assert res is not None
    return res


def _ip_object(ip: str, service: Obj, now: str, uid: str) -> Obj:
    meta = service["metadata"]
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IPAddress",
        "metadata": {
            "name": ip,
            "uid": uid,
            "creationTimestamp": now,
            "labels": {
                "ipaddress.kubernetes.io/ip-family": "IPv4",
                "ipaddress.kubernetes.io/managed-by": "ipallocator.k8s.io",
            },
        },
        "spec": {
            "parentRef": {
                "group": "",
                "resource": "services",
                "namespace": meta["namespace"],
                "name": meta["name"],
            }
        },
    }


def _try_take(cluster: Cluster, ip: str, service: Obj, now: str, uid: str) -> bool:
    try:
        storage.create(cluster, _ip_resource(), _ip_object(ip, service, now, uid))
        return True
    except APIError as exc:
        if exc.code == 409:
            return False
        raise


def allocate_service(cluster: Cluster, service: Obj, *, now: str, new_uid: Any, dry_run: bool) -> None:
    """Give a new Service its ClusterIP and NodePorts (unless it is headless or ExternalName)."""
    spec = service.setdefault("spec", {})
    stype = spec.get("type", "ClusterIP")
    if stype != "ExternalName" and spec.get("clusterIP") != "None":
        requested = spec.get("clusterIP")
        if requested:
            _take_requested(cluster, service, requested, now=now, uid=str(new_uid()), dry_run=dry_run)
        else:
            spec["clusterIP"] = _take_random(cluster, service, now=now, new_uid=new_uid, dry_run=dry_run)
        spec["clusterIPs"] = [spec["clusterIP"]]
    elif spec.get("clusterIP") == "None":
        spec["clusterIPs"] = ["None"]
    if stype in ("NodePort", "LoadBalancer"):
        _allocate_node_ports(cluster, service)


def _take_requested(cluster: Cluster, service: Obj, ip: str, *, now: str, uid: str, dry_run: bool) -> None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError as exc:
        raise errors.invalid(
            "Service",
            service["metadata"]["name"],
            [
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: "{ip}": must be a valid IP address',
                    "spec.clusterIP",
                )
            ],
        ) from exc
    if addr not in SERVICE_CIDR:
        raise errors.invalid(
            "Service",
            service["metadata"]["name"],
            [
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: "{ip}": cannot allocate resources of type IPAddress at this time',
                    "spec.clusterIP",
                )
            ],
        )
    taken = storage.get_or_none(cluster, _ip_resource(), "", ip) is not None
    if taken or (not dry_run and not _try_take(cluster, ip, service, now, uid)):
        raise errors.invalid(
            "Service",
            service["metadata"]["name"],
            [
                Cause(
                    "FieldValueInvalid",
                    f'Invalid value: ["{ip}"]: failed to allocate IP {ip}: provided IP is already allocated',
                    "spec.clusterIPs",
                )
            ],
        )


def _take_random(cluster: Cluster, service: Obj, *, now: str, new_uid: Any, dry_run: bool) -> str:
    size = SERVICE_CIDR.num_addresses
    for _ in range(_ALLOCATION_TRIES):
        # Skip the network address, .1 (the kubernetes Service) and .10 (kube-dns).
        ip = str(SERVICE_CIDR.network_address + random.randrange(11, size - 1))
        if dry_run:
            if storage.get_or_none(cluster, _ip_resource(), "", ip) is None:
                return ip
        elif _try_take(cluster, ip, service, now, str(new_uid())):
            return ip
    raise APIError(
        500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full"
    )


def _allocate_node_ports(cluster: Cluster, service: Obj) -> None:
    svc_res = registry.lookup("", "v1", "services")
    assert svc_res is not None
    items, _ = storage.list_objects(cluster, svc_res)
    used = {
        p.get("nodePort")
        for s in items
        if s["metadata"].get("uid") != service["metadata"].get("uid")
        for p in (s.get("spec", {}).get("ports") or [])
    }
    for i, port in enumerate(service["spec"].get("ports") or []):
        wanted = port.get("nodePort")
        if wanted:
            if wanted in used:
                raise errors.invalid(
                    "Service",
                    service["metadata"]["name"],
                    [
                        Cause(
                            "FieldValueInvalid",
                            f"Invalid value: {wanted}: provided port is already allocated",
                            f"spec.ports[{i}].nodePort",
                        )
                    ],
                )
            used.add(wanted)
            continue
        free = [p for p in range(NODE_PORT_RANGE[0], NODE_PORT_RANGE[1] + 1) if p not in used]
        if not free:
            raise APIError(
                500, "InternalError", "Internal error occurred: failed to allocate a nodePort: range is full"
            )
        port["nodePort"] = random.choice(free)
        used.add(port["nodePort"])


def release_service(cluster: Cluster, service: Obj) -> None:
    """Free the ClusterIP of a deleted Service."""
    ip = (service.get("spec") or {}).get("clusterIP")
    if not ip or ip == "None":
        return
    res = _ip_resource()
    obj = storage.get_or_none(cluster, res, "", ip)
    if obj is None:
        return
    parent = (obj.get("spec") or {}).get("parentRef") or {}
    if parent.get("name") == service["metadata"]["name"] and parent.get("namespace") == service[
        "metadata"
    ].get("namespace"):
        try:
            storage.delete(cluster, res, obj)
        except APIError as exc:
            if exc.code != 404:
                raise
