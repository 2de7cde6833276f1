"""Table-driven tests of host-local IPAM and the CNI flavours' device names and routes."""

from __future__ import annotations

import pytest

from kubeviz.kubelet.cni.flavours import FLAVOURS, Route, pod_interface, router_ip, routes
from kubeviz.kubelet.cni.ipam import HostLocalRange, Pool, RangeFullError, next_free_ip

NEXT: list[tuple[str, str, list[str], str | None, str]] = [
    # why, podCIDR, allocated, last reserved, want
    ("first IP skips the network address and the gateway", "10.244.1.0/24", [], None, "10.244.1.2"),
    (
        "next after the allocated ones",
        "10.244.1.0/24",
        ["10.244.1.2", "10.244.1.3"],
        "10.244.1.3",
        "10.244.1.4",
    ),
    (
        "round-robin: a released low IP is not reused yet",
        "10.244.1.0/24",
        ["10.244.1.3"],
        "10.244.1.3",
        "10.244.1.4",
    ),
    (
        "holes before the last reserved are skipped",
        "10.244.1.0/24",
        ["10.244.1.5"],
        "10.244.1.4",
        "10.244.1.6",
    ),
    (
        "wraps past the broadcast, over the gateway",
        "10.244.1.0/24",
        ["10.244.1.254"],
        "10.244.1.254",
        "10.244.1.2",
    ),
    (
        "wrap skips taken low IPs",
        "10.244.1.0/24",
        ["10.244.1.254", "10.244.1.2"],
        "10.244.1.254",
        "10.244.1.3",
    ),
    ("last reserved outside the range starts over", "10.244.1.0/24", [], "10.9.9.9", "10.244.1.2"),
    ("a /30 has one usable address", "10.244.7.0/30", [], None, "10.244.7.2"),
    ("a wider podCIDR crosses octets", "10.244.0.0/16", [], "10.244.0.255", "10.244.1.0"),
]


@pytest.mark.parametrize(("why", "cidr", "allocated", "last", "want"), NEXT, ids=[c[0] for c in NEXT])
def test_next_free_ip(why: str, cidr: str, allocated: list[str], last: str | None, want: str) -> None:
    assert next_free_ip(cidr, allocated, last_reserved=last) == want


def test_full_range_says_what_to_do() -> None:
    taken = [f"10.244.1.{i}" for i in range(2, 255)]
    with pytest.raises(
        RangeFullError, match=r"no IP addresses available in 10\.244\.1\.0/24.*larger podCIDR"
    ):
        next_free_ip("10.244.1.0/24", taken, last_reserved="10.244.1.100")


@pytest.mark.parametrize(
    ("cidr", "message"),
    [("10.244.1.0/31", "too small"), ("10.244.1.5/24", "not an IPv4 network"), ("fd00::/64", "not an IPv4")],
)
def test_bad_pod_cidrs(cidr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        next_free_ip(cidr, [])


def test_range_matches_host_local_defaults() -> None:
    r = HostLocalRange.from_cidr("10.244.1.0/24")
    assert (str(r.start), str(r.end), str(r.gateway), r.usable) == (
        "10.244.1.1",
        "10.244.1.254",
        "10.244.1.1",
        253,
    )


def test_pool_allocates_releases_and_fills_up() -> None:
    pool = Pool("10.244.2.0/29")  # .1 gateway, .2-.6 usable, .7 broadcast
    got = []
    for _ in range(5):
        ip, pool = pool.allocate()
        got.append(ip)
    assert got == ["10.244.2.2", "10.244.2.3", "10.244.2.4", "10.244.2.5", "10.244.2.6"]
    with pytest.raises(RangeFullError):
        pool.allocate()
    pool = pool.release("10.244.2.4").release("10.244.2.4")  # idempotent, like CNI DEL
    assert "10.244.2.4" not in pool.allocated
    ip, pool = pool.allocate()
    assert ip == "10.244.2.4"
    assert pool.last_reserved == "10.244.2.4"
    assert pool.gateway == "10.244.2.1"


NODES = [
    ("worker-b", "192.168.1.12", "10.244.2.0/24"),
    ("control-plane", "192.168.1.10", "10.244.0.0/24"),
    ("worker-a", "192.168.1.11", "10.244.1.0/24"),
    ("joining", "192.168.1.13", ""),
]

ROUTES: list[tuple[str, list[str]]] = [
    (
        "flannel",
        [
            "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink",
            "10.244.2.0/24 via 10.244.2.0 dev flannel.1 onlink",
        ],
    ),
    (
        "calico",
        [
            "10.244.0.0/24 via 192.168.1.10 dev tunl0 proto bird onlink",
            "10.244.2.0/24 via 192.168.1.12 dev tunl0 proto bird onlink",
        ],
    ),
    (
        "cilium",
        [
            "10.244.0.0/24 via 10.244.1.1 dev cilium_host src 10.244.1.1 mtu 1450",
            "10.244.2.0/24 via 10.244.1.1 dev cilium_host src 10.244.1.1 mtu 1450",
        ],
    ),
]


@pytest.mark.parametrize(("flavour", "want"), ROUTES, ids=[r[0] for r in ROUTES])
def test_routes_to_other_nodes(flavour: str, want: list[str]) -> None:
    got = routes(flavour, node="worker-a", nodes=NODES)
    assert all(isinstance(r, Route) for r in got)
    assert [str(r) for r in got] == want


def test_single_node_has_no_routes() -> None:
    assert routes("flannel", node="solo", nodes=[("solo", "192.168.1.10", "10.244.0.0/24")]) == []


@pytest.mark.parametrize(
    ("flavour", "node", "message"),
    [
        ("weave", "worker-a", "unknown CNI flavour 'weave': choose one of calico, cilium, flannel"),
        ("flannel", "ghost", "node 'ghost' is not among the nodes given"),
        ("cilium", "joining", "node 'joining' has no podCIDR yet"),
    ],
)
def test_routes_errors(flavour: str, node: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        routes(flavour, node=node, nodes=NODES)


INTERFACES: list[tuple[str, str]] = [
    # Expected values computed outside Python: `echo -n default.web | sha1sum` for calico,
    # `echo -n abc | sha256sum` for cilium (and flannel, whose random name we derive the same way).
    ("flannel", "vethba7816bf"),
    ("calico", "cali68caf03a5f4"),
    ("cilium", "lxcba7816bf8f01"),
]


@pytest.mark.parametrize(("flavour", "want"), INTERFACES)
def test_pod_interface_names(flavour: str, want: str) -> None:
    name = pod_interface(flavour, namespace="default", pod="web", container_id="abc")
    assert name == want
    assert len(name) < 16  # IFNAMSIZ, NUL included


def test_calico_name_depends_on_pod_not_container() -> None:
    a = pod_interface("calico", namespace="default", pod="web", container_id="one")
    b = pod_interface("calico", namespace="default", pod="web", container_id="two")
    assert a == b != pod_interface("calico", namespace="other", pod="web", container_id="one")


NODE_DEVICES: list[tuple[str, tuple[str, ...]]] = [
    ("flannel", ("cni0", "flannel.1")),
    ("calico", ("tunl0",)),
    ("cilium", ("cilium_host", "cilium_net", "cilium_vxlan")),
]


@pytest.mark.parametrize(("flavour", "want"), NODE_DEVICES)
def test_node_devices(flavour: str, want: tuple[str, ...]) -> None:
    assert FLAVOURS[flavour].node_devices == want


def test_router_ip_is_first_host() -> None:
    assert router_ip("10.244.3.0/24") == "10.244.3.1"
