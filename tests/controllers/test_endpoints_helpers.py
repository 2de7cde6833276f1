"""Table-driven tests of the Endpoints controller's pure helpers."""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.controllers.endpoints.helpers import (
    CONTROLLER_NAME,
    LABEL_MANAGED_BY,
    OVER_CAPACITY_ANNOTATION,
    endpoint_entries,
    endpoints_current,
    endpoints_labels,
    repack_subsets,
)
from tests.controllers.test_endpointslice_helpers import pod, service


def ips(addresses: list[dict[str, Any]]) -> list[str]:
    return [a["ip"] for a in addresses]


def test_ready_and_not_ready_addresses_share_a_subset() -> None:
    pods = [pod("b", ip="10.244.1.9"), pod("a", ip="10.244.1.3", ready=False), pod("c", ip="10.244.1.10")]
    subsets = repack_subsets(endpoint_entries(service(), pods))
    assert len(subsets) == 1
    assert ips(subsets[0]["addresses"]) == ["10.244.1.10", "10.244.1.9"]  # sorted as strings, as upstream
    assert ips(subsets[0]["notReadyAddresses"]) == ["10.244.1.3"]
    assert subsets[0]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert subsets[0]["addresses"][0] == {
        "ip": "10.244.1.10",
        "nodeName": "worker-1",
        "targetRef": {"kind": "Pod", "namespace": "default", "name": "c", "uid": "uid-c"},
    }


def test_pods_resolving_a_name_differently_get_their_own_subsets() -> None:
    pods = [pod("a", ip="10.244.1.2"), pod("b", ip="10.244.1.3", container_port=9000)]
    subsets = repack_subsets(endpoint_entries(service(), pods))
    assert [(s["ports"][0]["port"], ips(s["addresses"])) for s in subsets] == [
        (8080, ["10.244.1.2"]),
        (9000, ["10.244.1.3"]),
    ]


def test_multiple_ports_are_one_subset_and_unnamed_ports_have_no_name() -> None:
    svc = service(
        ports=[
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"},
            {"port": 9100, "protocol": "TCP", "targetPort": 9100},
        ]
    )
    subsets = repack_subsets(endpoint_entries(svc, [pod("a")]))
    assert len(subsets) == 1
    assert {tuple(sorted(p.items())) for p in subsets[0]["ports"]} == {
        (("name", "http"), ("port", 8080), ("protocol", "TCP")),
        (("port", 9100), ("protocol", "TCP")),
    }


@pytest.mark.parametrize(
    ("kwargs", "publish", "where"),
    [
        ({"deleting": True}, False, None),  # terminating pods leave the Endpoints
        ({"deleting": True}, True, "addresses"),  # unless not-ready addresses are published
        ({"ready": False}, True, "addresses"),
        ({"ip": None}, False, None),
        ({"phase": "Failed"}, False, None),
    ],
)
def test_which_pods_are_listed(kwargs: dict[str, Any], publish: bool, where: str | None) -> None:
    subsets = repack_subsets(
        endpoint_entries(service(publishNotReadyAddresses=publish), [pod("a", **kwargs)])
    )
    if where is None:
        assert subsets == []
    else:
        assert ips(subsets[0][where]) == ["10.244.1.5"]


def test_headless_service_without_ports_lists_addresses_only() -> None:
    svc = service(clusterIP="None", ports=[])
    assert repack_subsets(endpoint_entries(svc, [pod("a")])) == [
        {
            "addresses": [
                {
                    "ip": "10.244.1.5",
                    "nodeName": "worker-1",
                    "targetRef": {"kind": "Pod", "namespace": "default", "name": "a", "uid": "uid-a"},
                }
            ]
        }
    ]
    # A Service with a ClusterIP and no ports lists nobody.
    assert repack_subsets(endpoint_entries(service(ports=[]), [pod("a")])) == []


def test_labels() -> None:
    assert endpoints_labels(service()) == {"tier": "front", LABEL_MANAGED_BY: CONTROLLER_NAME}
    assert endpoints_labels(service(clusterIP="None"))["service.kubernetes.io/headless"] == ""


def test_endpoints_current_ignores_target_ref_versions() -> None:
    subsets = repack_subsets(endpoint_entries(service(), [pod("a")]))
    labels = endpoints_labels(service())
    stored = {"metadata": {"labels": labels}, "subsets": [dict(subsets[0])]}
    stored["subsets"][0]["addresses"] = [
        {**a, "targetRef": {**a["targetRef"], "resourceVersion": "42"}} for a in subsets[0]["addresses"]
    ]
    assert endpoints_current(stored, subsets=subsets, labels=labels)
    assert not endpoints_current(stored, subsets=[], labels=labels)
    assert not endpoints_current(stored, subsets=subsets, labels={"other": "x"})
    over = {**stored, "metadata": {"labels": labels, "annotations": {OVER_CAPACITY_ANNOTATION: "truncated"}}}
    assert not endpoints_current(over, subsets=subsets, labels=labels)
