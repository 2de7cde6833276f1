"""Table-driven tests for the CoreDNS ``kubernetes`` plugin answers and the pod's search path.

Expected behaviours follow coredns ``plugin/kubernetes`` (``findServices``, ``endpointHostname``,
``serviceRecordForIP``), ``plugin/backend_lookup.go`` (SRV weight ``floor(100/n)``) and glibc's
``res_search`` with ``ndots:5``.
"""

from __future__ import annotations

from typing import Any

import pytest

from kubeviz.dns.resolver import (
    FORWARDED,
    NODATA,
    NOERROR,
    NXDOMAIN,
    Answer,
    EndpointAddress,
    Request,
    candidates,
    endpoint_hostname,
    lookup,
    parse_request,
    ready_addresses,
    resolve,
    srv_weight,
)

Z = "svc.cluster.local."


def service(
    ns: str, name: str, *, cluster_ip: str = "", ports: tuple[tuple[str, int], ...] = (), **spec: Any
) -> dict:
    """Return a Service as the API serves it; ``ports`` are ``(name, port)`` over TCP."""
    body: dict[str, Any] = {"ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports], **spec}
    if cluster_ip:
        body["clusterIP"] = cluster_ip
    return {"kind": "Service", "metadata": {"namespace": ns, "name": name}, "spec": body}


def endpoint(ip: str, *, hostname: str = "", ready: bool | None = True) -> dict:
    """Return one EndpointSlice endpoint; ``ready=None`` leaves the condition unset."""
    ep: dict[str, Any] = {"addresses": [ip], "conditions": {} if ready is None else {"ready": ready}}
    if hostname:
        ep["hostname"] = hostname
    return ep


def slice_(ns: str, svc: str, *endpoints: dict, ports: tuple[tuple[str, int], ...] = ()) -> dict:
    """Return an EndpointSlice labelled for ``svc``."""
    return {
        "kind": "EndpointSlice",
        "metadata": {"namespace": ns, "name": f"{svc}-abcde", "labels": {"kubernetes.io/service-name": svc}},
        "addressType": "IPv4",
        "endpoints": list(endpoints),
        "ports": [{"name": n, "port": p, "protocol": "TCP"} for n, p in ports],
    }


SERVICES = [
    service("shop", "web", cluster_ip="10.96.0.10", ports=(("http", 80), ("metrics", 9090))),
    service("shop", "db", cluster_ip="None", ports=(("pg", 5432),)),
    service("shop", "cache", cluster_ip="None"),
    service("shop", "drained", cluster_ip="None", ports=(("http", 80),)),
    service("shop", "payments", type="ExternalName", externalName="api.stripe.com"),
    service("shop", "alias", type="ExternalName", externalName="web.shop.svc.cluster.local"),
    service("shop", "byip", type="ExternalName", externalName="192.0.2.1"),
    service("other", "web", cluster_ip="10.96.5.5", ports=(("http", 80),)),
]
SLICES = [
    slice_("shop", "web", endpoint("10.244.1.2"), endpoint("10.244.2.3"), ports=(("http", 8080),)),
    slice_(
        "shop",
        "db",
        endpoint("10.244.1.5", hostname="db-0"),
        endpoint("10.244.2.6", hostname="db-1"),
        endpoint("10.244.3.7", hostname="db-2", ready=False),
        ports=(("pg", 5432),),
    ),
    slice_("shop", "cache", endpoint("10.244.1.9", ready=None)),
    slice_("shop", "drained", endpoint("10.244.4.4", ready=False), ports=(("http", 80),)),
]


def ask(name: str, *, ns: str = "shop", qtype: str = "A") -> Answer:
    return resolve(name, from_namespace=ns, services=SERVICES, slices=SLICES, qtype=qtype)


def shown(answer: Answer) -> list[str]:
    return [str(r) for r in answer.records]


def tried(answer: Answer) -> list[tuple[str, str]]:
    return [(t.name, t.status) for t in answer.tries]


CASES = [
    (
        "short name from the same namespace",
        "web", "shop", "A", NOERROR,
        [f"web.shop.{Z} A 10.96.0.10"],
        [(f"web.shop.{Z}", NOERROR)],
    ),
    (
        "short name resolves in the asking pod's namespace",
        "web", "other", "A", NOERROR,
        [f"web.other.{Z} A 10.96.5.5"],
        [(f"web.other.{Z}", NOERROR)],
    ),
    (
        "svc.ns misses the own-namespace suffix, then hits svc.cluster.local",
        "web.shop", "other", "A", NOERROR,
        [f"web.shop.{Z} A 10.96.0.10"],
        [(f"web.shop.other.{Z}", NXDOMAIN), (f"web.shop.{Z}", NOERROR)],
    ),
    (
        "full name without a dot has 4 dots < ndots: every suffix first",
        "web.shop.svc.cluster.local", "other", "A", NOERROR,
        [f"web.shop.{Z} A 10.96.0.10"],
        [
            (f"web.shop.svc.cluster.local.other.{Z}", NXDOMAIN),
            (f"web.shop.svc.cluster.local.{Z}", NXDOMAIN),
            ("web.shop.svc.cluster.local.cluster.local.", NXDOMAIN),
            (f"web.shop.{Z}", NOERROR),
        ],
    ),
    (
        "trailing dot is tried as is, once",
        "web.shop.svc.cluster.local.", "other", "A", NOERROR,
        [f"web.shop.{Z} A 10.96.0.10"],
        [(f"web.shop.{Z}", NOERROR)],
    ),
    (
        "not found: every try listed, the bare name goes upstream",
        "nope", "shop", "A", FORWARDED,
        [],
        [
            (f"nope.shop.{Z}", NXDOMAIN),
            (f"nope.{Z}", NXDOMAIN),
            ("nope.cluster.local.", NXDOMAIN),
            ("nope.", FORWARDED),
        ],
    ),
    (
        "absolute name of a missing service is NXDOMAIN",
        f"nope.shop.{Z}", "shop", "A", NXDOMAIN,
        [],
        [(f"nope.shop.{Z}", NXDOMAIN)],
    ),
    (
        "headless: ready endpoint addresses only",
        "db", "shop", "A", NOERROR,
        [f"db.shop.{Z} A 10.244.1.5", f"db.shop.{Z} A 10.244.2.6"],
        [(f"db.shop.{Z}", NOERROR)],
    ),
    (
        "headless with no ready endpoint is NXDOMAIN",
        f"drained.shop.{Z}", "shop", "A", NXDOMAIN,
        [],
        [(f"drained.shop.{Z}", NXDOMAIN)],
    ),
    (
        "StatefulSet pod by hostname",
        "db-0.db", "shop", "A", NOERROR,
        [f"db-0.db.shop.{Z} A 10.244.1.5"],
        [(f"db-0.db.shop.{Z}", NOERROR)],
    ),
    (
        "StatefulSet pod that is not ready has no name",
        f"db-2.db.shop.{Z}", "shop", "A", NXDOMAIN,
        [],
        [(f"db-2.db.shop.{Z}", NXDOMAIN)],
    ),
    (
        "endpoint without hostname is named by its dashed IP (unset ready counts as ready)",
        "10-244-1-9.cache", "shop", "A", NOERROR,
        [f"10-244-1-9.cache.shop.{Z} A 10.244.1.9"],
        [(f"10-244-1-9.cache.shop.{Z}", NOERROR)],
    ),
    (
        "SRV for a named port of a ClusterIP service",
        f"_http._tcp.web.shop.{Z}", "other", "SRV", NOERROR,
        [f"_http._tcp.web.shop.{Z} SRV 0 100 80 web.shop.{Z}"],
        [(f"_http._tcp.web.shop.{Z}", NOERROR)],
    ),
    (
        "SRV without port and protocol lists every port",
        "web", "shop", "SRV", NOERROR,
        [f"web.shop.{Z} SRV 0 50 80 web.shop.{Z}", f"web.shop.{Z} SRV 0 50 9090 web.shop.{Z}"],
        [(f"web.shop.{Z}", NOERROR)],
    ),
    (
        "SRV for a headless service: one record per ready endpoint, weight 100/n",
        "_pg._tcp.db", "shop", "SRV", NOERROR,
        [
            f"_pg._tcp.db.shop.{Z} SRV 0 50 5432 db-0.db.shop.{Z}",
            f"_pg._tcp.db.shop.{Z} SRV 0 50 5432 db-1.db.shop.{Z}",
        ],
        [(f"_pg._tcp.db.shop.{Z}", NOERROR)],
    ),
    (
        "SRV for a port the service does not have",
        f"_grpc._tcp.web.shop.{Z}", "shop", "SRV", NXDOMAIN,
        [],
        [(f"_grpc._tcp.web.shop.{Z}", NXDOMAIN)],
    ),
    (
        "PTR for a ClusterIP",
        "10.0.96.10.in-addr.arpa.", "shop", "PTR", NOERROR,
        [f"10.0.96.10.in-addr.arpa. PTR web.shop.{Z}"],
        [("10.0.96.10.in-addr.arpa.", NOERROR)],
    ),
    (
        "PTR for a StatefulSet pod IP",
        "5.1.244.10.in-addr.arpa.", "shop", "PTR", NOERROR,
        [f"5.1.244.10.in-addr.arpa. PTR db-0.db.shop.{Z}"],
        [("5.1.244.10.in-addr.arpa.", NOERROR)],
    ),
    (
        "PTR for a pod IP without hostname: the dashed IP",
        "9.1.244.10.in-addr.arpa.", "shop", "PTR", NOERROR,
        [f"9.1.244.10.in-addr.arpa. PTR 10-244-1-9.cache.shop.{Z}"],
        [("9.1.244.10.in-addr.arpa.", NOERROR)],
    ),
    (
        "PTR for an unknown IP falls through upstream",
        "1.2.0.192.in-addr.arpa.", "shop", "PTR", FORWARDED,
        [],
        [("1.2.0.192.in-addr.arpa.", FORWARDED)],
    ),
    (
        "ExternalName answers a CNAME; the outside target is not chased",
        "payments", "shop", "A", NOERROR,
        [f"payments.shop.{Z} CNAME api.stripe.com."],
        [(f"payments.shop.{Z}", NOERROR)],
    ),
    (
        "ExternalName to an in-cluster name is chased to its A record",
        "alias", "shop", "A", NOERROR,
        [f"alias.shop.{Z} CNAME web.shop.{Z}", f"web.shop.{Z} A 10.96.0.10"],
        [(f"alias.shop.{Z}", NOERROR)],
    ),
    (
        "ExternalName holding an IP address answers nothing",
        f"byip.shop.{Z}", "shop", "A", NXDOMAIN,
        [],
        [(f"byip.shop.{Z}", NXDOMAIN)],
    ),
    (
        "name outside the cluster domain, absolute",
        "example.com.", "shop", "A", FORWARDED,
        [],
        [("example.com.", FORWARDED)],
    ),
    (
        "name outside the cluster domain, relative: search suffixes first",
        "example.com", "shop", "A", FORWARDED,
        [],
        [
            (f"example.com.shop.{Z}", NXDOMAIN),
            (f"example.com.{Z}", NXDOMAIN),
            ("example.com.cluster.local.", NXDOMAIN),
            ("example.com.", FORWARDED),
        ],
    ),
    (
        "namespace name: exists, no data",
        f"shop.{Z}", "shop", "A", NODATA,
        [],
        [(f"shop.{Z}", NODATA)],
    ),
    (
        "pod A record, pods insecure",
        "10-244-1-5.shop.pod.cluster.local.", "shop", "A", NOERROR,
        ["10-244-1-5.shop.pod.cluster.local. A 10.244.1.5"],
        [("10-244-1-5.shop.pod.cluster.local.", NOERROR)],
    ),
    (
        "names match case-insensitively",
        "WEB.Shop", "other", "A", NOERROR,
        [f"web.shop.{Z} A 10.96.0.10"],
        [(f"web.shop.other.{Z}", NXDOMAIN), (f"web.shop.{Z}", NOERROR)],
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "name", "ns", "qtype", "status", "records", "tries"),
    [pytest.param(*row, id=row[0]) for row in CASES],
)
def test_resolve(
    case: str, name: str, ns: str, qtype: str, status: str, records: list[str], tries: list[tuple[str, str]]
) -> None:
    answer = ask(name, ns=ns, qtype=qtype)
    assert (answer.status, shown(answer), tried(answer)) == (status, records, tries), case


def test_srv_extra_carries_target_addresses() -> None:
    answer = ask("_pg._tcp.db", qtype="SRV")
    assert [str(r) for r in answer.extra] == [
        f"db-0.db.shop.{Z} A 10.244.1.5",
        f"db-1.db.shop.{Z} A 10.244.2.6",
    ]


def test_external_name_note_says_upstream_is_not_simulated() -> None:
    assert "forwarded upstream: not simulated" in ask("payments").note
    assert "forwarded upstream: not simulated" in ask("example.com.").tries[0].note


def test_unsupported_query_type_says_which_are() -> None:
    with pytest.raises(ValueError, match="A, SRV, PTR"):
        ask("web", qtype="AAAA")


def test_lookup_answers_one_name_without_search() -> None:
    attempt = lookup(f"web.shop.{Z}", qtype="A", services=SERVICES, slices=SLICES)
    assert [str(r) for r in attempt.records] == [f"web.shop.{Z} A 10.96.0.10"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("web", [f"web.ns.{Z}", f"web.{Z}", "web.cluster.local.", "web."]),
        ("a.b.c.d", [f"a.b.c.d.ns.{Z}", f"a.b.c.d.{Z}", "a.b.c.d.cluster.local.", "a.b.c.d."]),
        (
            "a.b.c.d.e.f",
            ["a.b.c.d.e.f.", f"a.b.c.d.e.f.ns.{Z}", f"a.b.c.d.e.f.{Z}", "a.b.c.d.e.f.cluster.local."],
        ),
        ("web.ns.svc.cluster.local.", ["web.ns.svc.cluster.local."]),
    ],
)
def test_candidates_follow_ndots_5(name: str, expected: list[str]) -> None:
    assert candidates(name, namespace="ns") == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("cluster.local.", Request()),
        ("svc.cluster.local.", Request()),
        ("ns.svc.cluster.local.", Request(kind="svc", namespace="ns")),
        ("web.ns.svc.cluster.local.", Request(kind="svc", namespace="ns", service="web")),
        (
            "web-0.web.ns.svc.cluster.local.",
            Request(kind="svc", namespace="ns", service="web", endpoint="web-0"),
        ),
        (
            "_http._tcp.web.ns.svc.cluster.local.",
            Request(kind="svc", namespace="ns", service="web", port="http", protocol="tcp"),
        ),
        ("a.b.c.web.ns.svc.cluster.local.", None),
        ("web.ns.cluster.local.", None),
        ("1-2-3-4.ns.pod.cluster.local.", Request(kind="pod", namespace="ns", service="1-2-3-4")),
    ],
)
def test_parse_request(name: str, expected: Request | None) -> None:
    assert parse_request(name) == expected


@pytest.mark.parametrize(("count", "weight"), [(1, 100), (2, 50), (3, 33), (7, 14), (200, 1)])
def test_srv_weight_is_floor_of_100_over_n(count: int, weight: int) -> None:
    assert srv_weight(count) == weight


@pytest.mark.parametrize(
    ("address", "label"),
    [
        (EndpointAddress("10.244.1.5", "db-0"), "db-0"),
        (EndpointAddress("10.244.1.5"), "10-244-1-5"),
        (EndpointAddress("fd00::1"), "fd00--1"),
    ],
)
def test_endpoint_hostname(address: EndpointAddress, label: str) -> None:
    assert endpoint_hostname(address) == label


def test_ready_addresses_skip_not_ready_and_other_services() -> None:
    ips = [a.ip for a in ready_addresses(SLICES, service="db", namespace="shop")]
    assert ips == ["10.244.1.5", "10.244.2.6"]
