"""Pure arithmetic of the EndpointSlice controller, and the pod helpers both endpoint controllers use.

Mirrors ``staging/src/k8s.io/endpointslice`` (``utils.go``: ``podToEndpoint``,
``getEndpointPorts``, ``setEndpointSliceLabels``; ``util/controller_utils.go``:
``ShouldPodBeInEndpoints``, ``ShouldSetHostname``, ``GetPodServiceMemberships``;
``reconciler.go``: ``reconcileByAddressType``) and ``FindPort`` of ``pkg/api/v1/pod``.

What is simplified:

* Slices are packed as upstream packs them (update in place, fill slices that change anyway,
  then slices with room, then new ones), but without the "only fill an unchanged slice if it
  saves a new one" refinement, and without topology hints.
* The ``last-change-trigger-time`` annotation is the newest of the Service's creation and the
  selected pods' last Ready transitions, recomputed on every write, instead of upstream's
  in-memory ``TriggerTimeTracker``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeviz.client.labels import Selector, from_labels
from kubeviz.controllers.objects import meta as _meta
from kubeviz.controllers.objects import spec as _spec
from kubeviz.controllers.objects import status as _status
from kubeviz.controllers.timestamps import format_time, parse_time

Obj = Mapping[str, Any]

SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME = "endpointslice-controller.k8s.io"
HEADLESS_LABEL = "service.kubernetes.io/headless"
TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
ZONE_LABEL = "topology.kubernetes.io/zone"
#: kube-controller-manager's ``--max-endpoints-per-slice`` default.
MAX_ENDPOINTS_PER_SLICE = 100


# --- which pods -------------------------------------------------------------------------------


def service_selector(service: Obj) -> Selector | None:
    """Return the Service's pod selector, or None when it has none (endpoints come from elsewhere)."""
    selector = _spec(service).get("selector")
    return None if selector is None else from_labels(selector)


def selects(service: Obj, pod: Obj) -> bool:
    """Tell whether a Service's selector picks this pod (same namespace, labels match)."""
    selector = service_selector(service)
    if selector is None or _meta(service).get("namespace") != _meta(pod).get("namespace"):
        return False
    return selector.matches(_meta(pod).get("labels"))


def pod_services(services: Iterable[Obj], pod: Obj) -> list[str]:
    """Return the keys of the Services whose selector picks the pod (``GetPodServiceMemberships``)."""
    return [f"{_meta(s)['namespace']}/{_meta(s)['name']}" for s in services if selects(s, pod)]


def _condition(pod: Obj, kind: str) -> Obj | None:
    for cond in _status(pod).get("conditions") or []:
        if cond.get("type") == kind:
            return cond
    return None


def is_pod_ready(pod: Obj) -> bool:
    """Tell whether the pod's Ready condition is True."""
    cond = _condition(pod, "Ready")
    return cond is not None and cond.get("status") == "True"


def is_pod_terminal(pod: Obj) -> bool:
    """Tell whether the pod has finished for good (Succeeded or Failed)."""
    return _status(pod).get("phase") in ("Succeeded", "Failed")


def should_pod_be_in_endpoints(pod: Obj, *, include_terminating: bool) -> bool:
    """Tell whether a selected pod gets an endpoint at all.

    Finished pods and pods without an IP never do; pods being deleted only when the caller
    keeps terminating endpoints (EndpointSlices always do, Endpoints only for Services that
    publish not-ready addresses).
    """
    if is_pod_terminal(pod):
        return False
    if not _status(pod).get("podIP") and not _status(pod).get("podIPs"):
        return False
    return include_terminating or not _meta(pod).get("deletionTimestamp")


def pod_ip(pod: Obj, family: str) -> str | None:
    """Return the pod's first IP of an address family (``IPv4`` or ``IPv6``), or None."""
    ips = [entry.get("ip") for entry in _status(pod).get("podIPs") or []] or [_status(pod).get("podIP")]
    for ip in ips:
        if ip and (":" in ip) == (family == "IPv6"):
            return ip
    return None


def address_types(service: Obj) -> list[str]:
    """Return the address types (``IPv4``/``IPv6``) the Service's slices carry."""
    return list(_spec(service).get("ipFamilies") or ["IPv4"])


# --- which ports ------------------------------------------------------------------------------


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """Resolve a Service port's ``targetPort`` on one pod (``FindPort``).

    A number is taken as it is.  A name is looked up among the containers' ports (and the
    sidecars', init containers that keep running) with the same protocol; None if no
    container names such a port, so each pod may resolve a name to a different number.
    """
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    protocol = service_port.get("protocol") or "TCP"
    spec = _spec(pod)
    sidecars = [c for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    for container in [*(spec.get("containers") or []), *sidecars]:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                return int(port["containerPort"])
    return None


def endpoint_ports(service: Obj, pod: Obj) -> list[dict[str, Any]]:
    """Return the EndpointSlice ports a pod offers for a Service, named as the Service names them.

    Service ports the pod cannot resolve are left out, as upstream does.
    """
    out: list[dict[str, Any]] = []
    for service_port in _spec(service).get("ports") or []:
        number = find_port(pod, service_port)
        if number is None:
            continue
        port: dict[str, Any] = {
            "name": service_port.get("name") or "",
            "port": number,
            "protocol": service_port.get("protocol") or "TCP",
        }
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        out.append(port)
    return out


def ports_key(ports: Iterable[Obj]) -> tuple[tuple[str, int, str, str], ...]:
    """Return an order-free key of a port list (pods offering the same ports share slices)."""
    return tuple(
        sorted(
            (
                p.get("name") or "",
                int(p.get("port") or 0),
                p.get("protocol") or "TCP",
                p.get("appProtocol") or "",
            )
            for p in ports
        )
    )


# --- endpoints --------------------------------------------------------------------------------


def should_set_hostname(pod: Obj, service: Obj) -> bool:
    """Tell whether the pod's hostname is published (it names the Service as its subdomain)."""
    return bool(
        _spec(pod).get("hostname")
        and _spec(pod).get("subdomain") == _meta(service).get("name")
        and _meta(pod).get("namespace") == _meta(service).get("namespace")
    )


def target_ref(pod: Obj) -> dict[str, str]:
    """Return the ObjectReference an endpoint uses for its pod."""
    return {
        "kind": "Pod",
        "namespace": _meta(pod).get("namespace") or "",
        "name": _meta(pod).get("name") or "",
        "uid": _meta(pod).get("uid") or "",
    }


def pod_to_endpoint(pod: Obj, service: Obj, *, ip: str, zone: str | None = None) -> dict[str, Any]:
    """Build the EndpointSlice endpoint of one pod (``podToEndpoint``).

    ``serving`` is the pod's readiness; ``ready`` is serving and not terminating, unless the
    Service publishes not-ready addresses.
    """
    serving = is_pod_ready(pod)
    terminating = bool(_meta(pod).get("deletionTimestamp"))
    ready = bool(_spec(service).get("publishNotReadyAddresses")) or (serving and not terminating)
    endpoint: dict[str, Any] = {
        "addresses": [ip],
        "conditions": {"ready": ready, "serving": serving, "terminating": terminating},
    }
    if should_set_hostname(pod, service):
        endpoint["hostname"] = _spec(pod)["hostname"]
    endpoint["targetRef"] = target_ref(pod)
    if _spec(pod).get("nodeName"):
        endpoint["nodeName"] = _spec(pod)["nodeName"]
    if zone:
        endpoint["zone"] = zone
    return endpoint


@dataclass
class SliceGroup:
    """The endpoints that share one address type and one port list (they may share slices)."""

    address_type: str
    ports: list[dict[str, Any]]
    endpoints: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, tuple[tuple[str, int, str, str], ...]]:
        return (self.address_type, ports_key(self.ports))


def desired_groups(service: Obj, pods: Iterable[Obj], *, zones: Mapping[str, str]) -> list[SliceGroup]:
    """Group the endpoints a Service should list by address type and resolved ports.

    ``zones`` maps node names to their ``topology.kubernetes.io/zone`` label.
    """
    groups: dict[Any, SliceGroup] = {}
    headless_without_ports = _spec(service).get("clusterIP") == "None" and not _spec(service).get("ports")
    for family in address_types(service):
        for pod in pods:
            if not should_pod_be_in_endpoints(pod, include_terminating=True):
                continue
            ip = pod_ip(pod, family)
            if ip is None:
                continue
            ports = [] if headless_without_ports else endpoint_ports(service, pod)
            zone = zones.get(_spec(pod).get("nodeName") or "")
            group = SliceGroup(family, ports)
            group = groups.setdefault(group.key, group)
            group.endpoints.append(pod_to_endpoint(pod, service, ip=ip, zone=zone))
    return list(groups.values())


def trigger_time(service: Obj, pods: Iterable[Obj]) -> str | None:
    """Return when the newest change that these endpoints reflect happened.

    The Service's creation, or a selected pod's last Ready transition (its creation if it has
    none yet), whichever is newest.
    """
    times = [parse_time(_meta(service).get("creationTimestamp"))]
    for pod in pods:
        cond = _condition(pod, "Ready")
        times.append(
            parse_time((cond or {}).get("lastTransitionTime") or _meta(pod).get("creationTimestamp"))
        )
    found = [t for t in times if t is not None]
    return format_time(max(found)) if found else None


# --- slices -----------------------------------------------------------------------------------


def slice_labels(service: Obj) -> dict[str, str]:
    """Return the labels of a Service's slices: the Service's own, plus who and whose."""
    reserved = {SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL}
    labels = {k: v for k, v in (_meta(service).get("labels") or {}).items() if k not in reserved}
    labels[SERVICE_NAME_LABEL] = _meta(service)["name"]
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    if _spec(service).get("clusterIP") in (None, "", "None"):  # upstream's !IsServiceIPSet
        labels[HEADLESS_LABEL] = ""
    return labels


def service_owner_ref(service: Obj) -> dict[str, Any]:
    """Return the controller reference a slice carries to its Service."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "name": _meta(service)["name"],
        "uid": _meta(service).get("uid") or "",
        "controller": True,
        "blockOwnerDeletion": True,
    }


def owned_by(endpoint_slice: Obj, service: Obj) -> bool:
    """Tell whether a slice's controller reference points at this very Service (same uid)."""
    uid = _meta(service).get("uid")
    return any(
        ref.get("controller") and ref.get("kind") == "Service" and ref.get("uid") == uid
        for ref in _meta(endpoint_slice).get("ownerReferences") or []
    )


def new_slice(service: Obj, group: SliceGroup, *, endpoints: list[dict[str, Any]]) -> dict[str, Any]:
    """Build a slice to create: ``generateName`` ``<service>-``, owned by the Service."""
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "generateName": f"{_meta(service)['name']}-",
            "namespace": _meta(service)["namespace"],
            "labels": slice_labels(service),
            "ownerReferences": [service_owner_ref(service)],
        },
        "addressType": group.address_type,
        "endpoints": endpoints,
        "ports": group.ports,
    }


def _slice_key(endpoint_slice: Obj) -> tuple[str, tuple[tuple[str, int, str, str], ...]]:
    return (endpoint_slice.get("addressType") or "IPv4", ports_key(endpoint_slice.get("ports") or []))


def _endpoint_key(endpoint: Obj) -> tuple[str, str]:
    ref = endpoint.get("targetRef") or {}
    addresses = endpoint.get("addresses") or [""]
    return (ref.get("uid") or f"{ref.get('namespace')}/{ref.get('name')}", addresses[0])


@dataclass
class SlicePlan:
    """The writes that bring a Service's slices to the desired endpoints."""

    create: list[dict[str, Any]] = field(default_factory=list)
    update: list[dict[str, Any]] = field(default_factory=list)
    delete: list[Obj] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.create or self.update or self.delete)


def _with(
    endpoint_slice: Obj, service: Obj, *, group: SliceGroup, endpoints: list[dict[str, Any]]
) -> dict[str, Any]:
    meta = {
        **_meta(endpoint_slice),
        "labels": slice_labels(service),
        "ownerReferences": [service_owner_ref(service)],
    }
    return {**endpoint_slice, "metadata": meta, "endpoints": endpoints, "ports": group.ports}


def _metadata_current(endpoint_slice: Obj, service: Obj) -> bool:
    return (_meta(endpoint_slice).get("labels") or {}) == slice_labels(service) and (
        _meta(endpoint_slice).get("ownerReferences") or []
    ) == [service_owner_ref(service)]


def plan_slices(
    service: Obj,
    *,
    groups: list[SliceGroup],
    existing: list[Obj],
    max_endpoints: int = MAX_ENDPOINTS_PER_SLICE,
) -> SlicePlan:
    """Decide which slices to create, update in place and delete (``reconcileByAddressType``).

    ``existing`` are the slices this controller manages for the Service's name.  Per group:
    keep each endpoint in the slice that already lists it (updating the slice if the endpoint
    changed or others left it), delete slices left empty, put new endpoints first into slices
    being updated anyway, then into slices with room, then into new slices of at most
    ``max_endpoints``.  Slices of another Service's uid or of a port list no longer wanted are
    deleted.  A Service with no endpoints at all keeps one empty placeholder slice.
    """
    plan = SlicePlan()
    by_key = {g.key: g for g in groups}
    mine: dict[Any, list[Obj]] = {}
    for endpoint_slice in existing:
        key = _slice_key(endpoint_slice)
        if not owned_by(endpoint_slice, service) or key not in by_key:
            plan.delete.append(endpoint_slice)
        else:
            mine.setdefault(key, []).append(endpoint_slice)
    for key, group in by_key.items():
        _plan_group(plan, service, group=group, slices=mine.get(key, []), max_endpoints=max_endpoints)
    if not groups:
        _keep_placeholder(plan, service)
    _reuse_deletions(plan, service)
    return plan


def _reuse_deletions(plan: SlicePlan, service: Obj) -> None:
    """Turn a create plus a delete into one update of the doomed slice, as upstream's ``finalize``.

    Only slices of this very Service (same uid) and the same address type are reused, so a
    slice the garbage collector is removing for an older namesake is never rewritten.
    """
    for doomed in list(plan.delete):
        if not plan.create:
            return
        fresh = plan.create[-1]
        if doomed.get("addressType") != fresh.get("addressType") or not owned_by(doomed, service):
            continue
        plan.create.pop()
        plan.delete.remove(doomed)
        meta = {
            **_meta(doomed),
            "labels": _meta(fresh)["labels"],
            "ownerReferences": _meta(fresh)["ownerReferences"],
        }
        plan.update.append(
            {**doomed, "metadata": meta, "endpoints": fresh["endpoints"], "ports": fresh["ports"]}
        )


def _plan_group(
    plan: SlicePlan, service: Obj, *, group: SliceGroup, slices: list[Obj], max_endpoints: int
) -> None:
    wanted = {_endpoint_key(ep): ep for ep in group.endpoints}
    placed: set[tuple[str, str]] = set()
    changing: list[tuple[Obj, list[dict[str, Any]]]] = []
    unchanged: list[tuple[Obj, list[dict[str, Any]]]] = []
    for endpoint_slice in sorted(slices, key=lambda s: _meta(s).get("name") or ""):
        kept: list[dict[str, Any]] = []
        changed = False
        for ep in endpoint_slice.get("endpoints") or []:
            key = _endpoint_key(ep)
            if key in wanted and key not in placed:
                placed.add(key)
                kept.append(wanted[key])
                changed = changed or wanted[key] != ep
            else:
                changed = True
        if not kept:
            plan.delete.append(endpoint_slice)
        elif changed or not _metadata_current(endpoint_slice, service):
            changing.append((endpoint_slice, kept))
        else:
            unchanged.append((endpoint_slice, kept))
    remaining = [ep for key, ep in wanted.items() if key not in placed]
    for _, kept in changing:
        remaining = _fill(kept, remaining, max_endpoints=max_endpoints)
    for endpoint_slice, kept in unchanged:
        if remaining and len(kept) < max_endpoints:
            remaining = _fill(kept, remaining, max_endpoints=max_endpoints)
            changing.append((endpoint_slice, kept))
    plan.update.extend(_with(s, service, group=group, endpoints=kept) for s, kept in changing)
    for start in range(0, len(remaining), max_endpoints):
        plan.create.append(new_slice(service, group, endpoints=remaining[start : start + max_endpoints]))


def _fill(
    kept: list[dict[str, Any]], remaining: list[dict[str, Any]], *, max_endpoints: int
) -> list[dict[str, Any]]:
    room = max(0, max_endpoints - len(kept))
    kept.extend(remaining[:room])
    return remaining[room:]


def _keep_placeholder(plan: SlicePlan, service: Obj) -> None:
    """Leave one empty slice so a Service with no endpoints still shows it has none."""
    placeholder = SliceGroup(address_types(service)[0], [])
    for endpoint_slice in plan.delete:
        if (
            owned_by(endpoint_slice, service)
            and not endpoint_slice.get("endpoints")
            and not endpoint_slice.get("ports")
            and endpoint_slice.get("addressType") == placeholder.address_type
            and _metadata_current(endpoint_slice, service)
        ):
            plan.delete.remove(endpoint_slice)
            return
    plan.create.append(new_slice(service, placeholder, endpoints=[]))
