"""Table-driven tests of the node IPAM and node lifecycle pure helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubeviz.controllers.nodeipam.helpers import CIDRRangeExhausted, allocate_pod_cidr, node_subnet_count
from kubeviz.controllers.nodelifecycle.helpers import (
    lease_expired,
    not_ready_taint,
    taint_for_ready_status,
    tolerates,
    unreachable_taint,
)
from kubeviz.controllers.timestamps import format_time

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)

# --- node IPAM --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        (set(), "10.244.0.0/24"),
        ({"10.244.0.0/24"}, "10.244.1.0/24"),
        ({"10.244.0.0/24", "10.244.2.0/24"}, "10.244.1.0/24"),  # a freed hole is reused first
        ({"192.168.0.0/24"}, "10.244.0.0/24"),  # outside the cluster CIDR: ignored
    ],
)
def test_allocate_pod_cidr_lowest_free(used: set[str], expected: str) -> None:
    assert allocate_pod_cidr(used=used) == expected


def test_allocate_pod_cidr_fills_exactly_n_then_fails_at_n_plus_1() -> None:
    cluster, mask = "10.0.0.0/22", 24
    n = node_subnet_count(cluster, mask)
    assert n == 4
    used: set[str] = set()
    for _ in range(n):
        used.add(allocate_pod_cidr(cluster, mask, used=used))
    assert used == {"10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"}
    with pytest.raises(CIDRRangeExhausted, match="no remaining CIDRs"):
        allocate_pod_cidr(cluster, mask, used=used)


def test_allocate_pod_cidr_default_range_has_256_subnets() -> None:
    used = {f"10.244.{i}.0/24" for i in range(255)}
    assert allocate_pod_cidr(used=used) == "10.244.255.0/24"


def test_allocate_pod_cidr_ipv6() -> None:
    assert allocate_pod_cidr("fd00:10:244::/56", 64, used={"fd00:10:244::/64"}) == "fd00:10:244:1::/64"


@pytest.mark.parametrize(
    ("cluster", "mask"), [("10.244.0.0/16", 8), ("10.244.0.0/16", 33), ("10.244.1.0/16", 24)]
)
def test_allocate_pod_cidr_rejects_bad_ranges(cluster: str, mask: int) -> None:
    with pytest.raises(ValueError):
        allocate_pod_cidr(cluster, mask)


# --- node lifecycle ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("renewed_ago", "grace", "expired"),
    [
        (10, 50, False),
        (50, 50, False),  # exactly the grace period: still alive
        (51, 50, True),
        (None, 50, True),  # never renewed
        (6, 5, True),  # a sped-up cluster's shorter grace
    ],
)
def test_lease_expired(renewed_ago: float | None, grace: float, expired: bool) -> None:
    spec = {} if renewed_ago is None else {"renewTime": format_time(NOW - timedelta(seconds=renewed_ago))}
    assert lease_expired({"spec": spec}, NOW, timedelta(seconds=grace)) is expired


def test_lease_expired_uses_the_default_grace() -> None:
    lease = {"spec": {"renewTime": format_time(NOW - timedelta(seconds=45))}}
    assert not lease_expired(lease, NOW)


def test_taint_builders() -> None:
    stamp = format_time(NOW)
    assert unreachable_taint(NOW) == {
        "key": "node.kubernetes.io/unreachable",
        "effect": "NoExecute",
        "timeAdded": stamp,
    }
    assert not_ready_taint(NOW) == {
        "key": "node.kubernetes.io/not-ready",
        "effect": "NoExecute",
        "timeAdded": stamp,
    }
    assert taint_for_ready_status("Unknown", NOW) == unreachable_taint(NOW)
    assert taint_for_ready_status("False", NOW) == not_ready_taint(NOW)
    assert taint_for_ready_status("True", NOW) is None


TAINT = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}


@pytest.mark.parametrize(
    ("toleration", "match"),
    [
        ({"operator": "Exists"}, True),  # tolerates everything
        ({"key": "node.kubernetes.io/unreachable", "operator": "Exists"}, True),
        ({"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoSchedule"}, False),
        ({"key": "node.kubernetes.io/not-ready", "operator": "Exists"}, False),
        ({"key": "node.kubernetes.io/unreachable"}, True),  # Equal with empty value
        ({"key": "node.kubernetes.io/unreachable", "value": "x"}, False),
        ({"key": "node.kubernetes.io/unreachable", "operator": "Gt", "value": "1"}, False),
    ],
)
def test_tolerates(toleration: dict[str, Any], match: bool) -> None:
    assert tolerates(toleration, TAINT) is match
