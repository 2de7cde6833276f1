"""Table-driven tests of the EndpointSlice controller's pure helpers."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.controllers.endpointslice.helpers import (
    CONTROLLER_NAME,
    HEADLESS_LABEL,
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    SliceGroup,
    desired_groups,
    endpoint_ports,
    find_port,
    plan_slices,
    pod_services,
    pod_to_endpoint,
    should_pod_be_in_endpoints,
    slice_labels,
    trigger_time,
)


def service(
    name: str = "web",
    *,
    selector: dict[str, str] | None = None,
    ports: list[dict[str, Any]] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "labels": {"tier": "front"},
            "creationTimestamp": "2026-03-01T12:00:00Z",
        },
        "spec": {
            "selector": {"app": name} if selector is None else selector,
            "clusterIP": "10.96.0.20",
            "ipFamilies": ["IPv4"],
            "ports": ports
            if ports is not None
            else [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            **spec,
        },
    }


def pod(
    name: str,
    *,
    ip: str | None = "10.244.1.5",
    ready: bool = True,
    labels: dict[str, str] | None = None,
    container_port: int = 8080,
    deleting: bool = False,
    phase: str = "Running",
    node: str = "worker-1",
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": "default",
        "uid": f"uid-{name}",
        "labels": {"app": "web"} if labels is None else labels,
        "creationTimestamp": "2026-03-01T12:00:01Z",
    }
    if deleting:
        meta["deletionTimestamp"] = "2026-03-01T12:05:00Z"
    status: dict[str, Any] = {
        "phase": phase,
        "conditions": [
            {
                "type": "Ready",
                "status": "True" if ready else "False",
                "lastTransitionTime": "2026-03-01T12:00:10Z",
            }
        ],
    }
    if ip:
        status["podIP"] = ip
        status["podIPs"] = [{"ip": ip}]
    return {
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "containers": [
                {"name": "c", "ports": [{"name": "http", "containerPort": container_port, "protocol": "TCP"}]}
            ],
        },
        "status": status,
    }


# --- ports ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service_port", "expected"),
    [
        ({"port": 80, "targetPort": 9090, "protocol": "TCP"}, 9090),  # a number is taken as is
        ({"port": 80, "targetPort": "http", "protocol": "TCP"}, 8080),  # a name is looked up
        ({"port": 80, "targetPort": "http", "protocol": "UDP"}, None),  # the protocol must match
        ({"port": 80, "targetPort": "metrics", "protocol": "TCP"}, None),  # no such container port
        ({"port": 80, "protocol": "TCP"}, 80),  # no targetPort: the port itself
    ],
)
def test_find_port(service_port: dict[str, Any], expected: int | None) -> None:
    assert find_port(pod("a"), service_port) == expected


def test_find_port_looks_at_sidecars() -> None:
    p = pod("a")
    p["spec"]["initContainers"] = [
        {"name": "proxy", "restartPolicy": "Always", "ports": [{"name": "admin", "containerPort": 15000}]}
    ]
    assert find_port(p, {"port": 1, "targetPort": "admin"}) == 15000


def test_endpoint_ports_resolve_names_per_pod_and_drop_unresolvable() -> None:
    svc = service(
        ports=[
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
            {"name": "metrics", "port": 9100, "protocol": "TCP", "targetPort": "metrics"},
        ]
    )
    assert endpoint_ports(svc, pod("a", container_port=8080)) == [
        {"name": "http", "port": 8080, "protocol": "TCP"}
    ]
    assert endpoint_ports(svc, pod("b", container_port=9000))[0]["port"] == 9000


# --- which pods -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "include_terminating", "expected"),
    [
        ({}, True, True),
        ({"ip": None}, True, False),  # no IP yet
        ({"phase": "Succeeded"}, True, False),  # finished
        ({"phase": "Failed"}, True, False),
        ({"deleting": True}, True, True),  # slices keep terminating endpoints
        ({"deleting": True}, False, False),  # Endpoints do not
        ({"ready": False}, False, True),  # not ready still gets an endpoint
    ],
)
def test_should_pod_be_in_endpoints(
    kwargs: dict[str, Any], include_terminating: bool, expected: bool
) -> None:
    assert should_pod_be_in_endpoints(pod("a", **kwargs), include_terminating=include_terminating) is expected


def test_pod_services_match_selector_and_namespace() -> None:
    services = [
        service("web"),
        service("all", selector={}),
        service("other", selector={"app": "db"}),
        service("none", selector=None) | {"spec": {}},
    ]
    stranger = service("web2") | {"metadata": {"name": "web2", "namespace": "prod"}}
    assert pod_services([*services, stranger], pod("a")) == ["default/web", "default/all"]


@pytest.mark.parametrize(
    ("kwargs", "publish", "conditions"),
    [
        ({}, False, {"ready": True, "serving": True, "terminating": False}),
        ({"ready": False}, False, {"ready": False, "serving": False, "terminating": False}),
        ({"deleting": True}, False, {"ready": False, "serving": True, "terminating": True}),
        ({"ready": False}, True, {"ready": True, "serving": False, "terminating": False}),
    ],
)
def test_pod_to_endpoint_conditions(
    kwargs: dict[str, Any], publish: bool, conditions: dict[str, bool]
) -> None:
    svc = service(publishNotReadyAddresses=publish)
    endpoint = pod_to_endpoint(pod("a", **kwargs), svc, ip="10.244.1.5", zone="z1")
    assert endpoint == {
        "addresses": ["10.244.1.5"],
        "conditions": conditions,
        "targetRef": {"kind": "Pod", "namespace": "default", "name": "a", "uid": "uid-a"},
        "nodeName": "worker-1",
        "zone": "z1",
    }


def test_desired_groups_split_by_resolved_ports() -> None:
    pods = [pod("a", ip="10.244.1.2"), pod("b", ip="10.244.1.3", container_port=9000), pod("c", ip=None)]
    groups = desired_groups(service(), pods, zones={})
    assert [(g.ports[0]["port"], [e["addresses"][0] for e in g.endpoints]) for g in groups] == [
        (8080, ["10.244.1.2"]),
        (9000, ["10.244.1.3"]),
    ]


def test_slice_labels_copy_service_labels_and_mark_headless() -> None:
    assert slice_labels(service()) == {
        "tier": "front",
        SERVICE_NAME_LABEL: "web",
        MANAGED_BY_LABEL: CONTROLLER_NAME,
    }
    assert slice_labels(service(clusterIP="None"))[HEADLESS_LABEL] == ""


def test_trigger_time_is_the_newest_change() -> None:
    assert trigger_time(service(), [pod("a")]) == "2026-03-01T12:00:10Z"
    assert trigger_time(service(), []) == "2026-03-01T12:00:00Z"


# --- packing slices ---------------------------------------------------------------------------


def endpoint(n: int, *, ready: bool = True) -> dict[str, Any]:
    return {
        "addresses": [f"10.244.0.{n}"],
        "conditions": {"ready": ready, "serving": ready, "terminating": False},
        "targetRef": {"kind": "Pod", "namespace": "default", "name": f"p{n}", "uid": f"u{n}"},
    }


PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


def group(*numbers: int) -> SliceGroup:
    return SliceGroup("IPv4", list(PORTS), [endpoint(n) for n in numbers])


def existing(
    name: str, *numbers: int, svc: dict[str, Any] | None = None, ports: Any = None
) -> dict[str, Any]:
    svc = svc or service()
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": "default",
            "resourceVersion": "7",
            "labels": slice_labels(svc),
            "ownerReferences": [
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "name": "web",
                    "uid": svc["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "addressType": "IPv4",
        "endpoints": [endpoint(n) for n in numbers],
        "ports": list(PORTS) if ports is None else ports,
    }


def names(slices: list[dict[str, Any]]) -> list[str]:
    return [s["metadata"].get("name", "<new>") for s in slices]


def test_plan_creates_slices_of_at_most_max_endpoints() -> None:
    plan = plan_slices(service(), groups=[group(*range(1, 6))], existing=[], max_endpoints=2)
    assert [len(s["endpoints"]) for s in plan.create] == [2, 2, 1]
    first = plan.create[0]
    assert first["metadata"]["generateName"] == "web-"
    assert first["metadata"]["ownerReferences"][0]["uid"] == "uid-web"
    assert first["addressType"] == "IPv4" and first["ports"] == PORTS
    assert not plan.update and not plan.delete


def test_plan_is_empty_when_slices_are_current() -> None:
    plan = plan_slices(service(), groups=[group(1, 2)], existing=[existing("web-a", 1, 2)])
    assert plan.empty()


def test_plan_updates_in_place_and_fills_room_before_creating() -> None:
    plan = plan_slices(
        service(), groups=[group(1, 3, 4)], existing=[existing("web-a", 1, 2)], max_endpoints=2
    )
    # 2 left web-a, 3 took its place there; 4 needs a new slice.
    assert names(plan.update) == ["web-a"]
    assert [e["addresses"][0] for e in plan.update[0]["endpoints"]] == ["10.244.0.1", "10.244.0.3"]
    assert plan.update[0]["metadata"]["resourceVersion"] == "7"
    assert [[e["addresses"][0] for e in s["endpoints"]] for s in plan.create] == [["10.244.0.4"]]
    assert not plan.delete


def test_plan_updates_a_changed_endpoint() -> None:
    changed = group(1, 2)
    changed.endpoints[1] = endpoint(2, ready=False)
    plan = plan_slices(service(), groups=[changed], existing=[existing("web-a", 1, 2)])
    assert names(plan.update) == ["web-a"]
    assert plan.update[0]["endpoints"][1]["conditions"]["ready"] is False


def test_plan_deletes_emptied_slices_and_reuses_them_for_creates() -> None:
    plan = plan_slices(
        service(),
        groups=[group(1, 5, 6)],
        existing=[existing("web-a", 1, 2), existing("web-b", 3, 4)],
        max_endpoints=2,
    )
    # web-a keeps 1 and takes 5; web-b lost everything but is reused for 6 instead of a create.
    assert names(plan.update) == ["web-a", "web-b"]
    assert [e["addresses"][0] for e in plan.update[1]["endpoints"]] == ["10.244.0.6"]
    assert not plan.create and not plan.delete


def test_plan_deletes_slices_of_another_uid_and_unwanted_ports() -> None:
    old = service()
    old["metadata"]["uid"] = "uid-old"
    plan = plan_slices(
        service(),
        groups=[group(1)],
        existing=[existing("web-old", 1, svc=old), existing("web-p", 2, ports=[{"name": "x", "port": 1}])],
    )
    assert sorted(names(plan.delete)) == ["web-old"]  # never reused: it belongs to the old Service
    assert names(plan.update) == ["web-p"]  # same uid and address type: reused for the new ports
    assert plan.update[0]["ports"] == PORTS


def test_plan_keeps_one_placeholder_for_a_service_without_endpoints() -> None:
    plan = plan_slices(service(), groups=[], existing=[existing("web-a", 1)])
    assert names(plan.update) == ["web-a"]
    assert plan.update[0]["endpoints"] == [] and plan.update[0]["ports"] == []
    placeholder = existing("web-a", ports=[])
    assert plan_slices(service(), groups=[], existing=[placeholder]).empty()
    created = plan_slices(service(), groups=[], existing=[]).create
    assert [(s["endpoints"], s["ports"]) for s in created] == [([], [])]


def test_plan_updates_slices_whose_labels_went_stale() -> None:
    svc = service()
    svc["metadata"]["labels"] = {"tier": "back"}
    plan = plan_slices(svc, groups=[group(1)], existing=[existing("web-a", 1)])
    assert names(plan.update) == ["web-a"]
    assert plan.update[0]["metadata"]["labels"]["tier"] == "back"
