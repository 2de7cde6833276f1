"""Leader election against the live apiserver's coordination.k8s.io/v1 Leases.

Electors get explicit ``now`` values from a fake clock, so a lease can expire without waiting.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kubeviz.client.leaderelection import HttpLeaseAPI, LeaderElector, LeaseConflict, micro_time
from tests.conftest import LiveCluster

pytestmark = pytest.mark.live

MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class FakeWallClock:
    """Steps one second per reading, so every stamp the electors write is distinct."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.moment += timedelta(seconds=1)
        return self.moment


@pytest.fixture
def api(cluster: LiveCluster) -> Iterator[HttpLeaseAPI]:
    lease_api = HttpLeaseAPI(cluster.server, "kube-controller-manager/v1.36.0 (leader-election test)")
    yield lease_api
    lease_api.close()


def elector(api: HttpLeaseAPI, lease: str, identity: str) -> LeaderElector:
    return LeaderElector(api, lease_name=lease, identity=identity, wall_clock=FakeWallClock())


def spec(api: HttpLeaseAPI, lease: str) -> dict:
    found = api.get_lease("kube-system", lease)
    assert found is not None
    return found["spec"]


@pytest.fixture
def lease() -> str:
    return "kube-controller-manager-" + uuid.uuid4().hex[:6]


def test_micro_time_is_rfc3339_utc_with_microseconds() -> None:
    assert micro_time(datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)) == "2026-01-02T03:04:05.123456Z"


def test_first_elector_creates_the_lease_and_the_second_waits(api: HttpLeaseAPI, lease: str) -> None:
    a, b = elector(api, lease, "master-1_a"), elector(api, lease, "master-2_b")
    assert api.get_lease("kube-system", lease) is None
    assert a.try_acquire_or_renew(now=0.0)
    created = spec(api, lease)
    assert created["holderIdentity"] == "master-1_a"
    assert created["leaseDurationSeconds"] == 15 and created["leaseTransitions"] == 0
    assert MICRO_TIME.match(created["acquireTime"]) and created["renewTime"] == created["acquireTime"]
    assert a.is_leader(now=0.0)

    assert not b.try_acquire_or_renew(now=0.0)
    assert not b.try_acquire_or_renew(now=14.0), "the lease is still fresh"
    assert not b.is_leader(now=14.0)
    assert spec(api, lease)["holderIdentity"] == "master-1_a"


def test_renewal_keeps_acquire_time_and_moves_renew_time(api: HttpLeaseAPI, lease: str) -> None:
    a = elector(api, lease, "a")
    assert a.try_acquire_or_renew(now=0.0)
    first = api.get_lease("kube-system", lease)
    assert a.try_acquire_or_renew(now=2.0)
    second = api.get_lease("kube-system", lease)
    assert second["spec"]["acquireTime"] == first["spec"]["acquireTime"]
    assert second["spec"]["renewTime"] > first["spec"]["renewTime"]
    assert second["spec"]["leaseTransitions"] == 0
    assert second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
    assert a.is_leader(now=11.0) and not a.is_leader(now=12.5), (
        "leadership ends renew_deadline after a renewal"
    )


def test_second_takes_over_once_the_holder_stops_renewing(api: HttpLeaseAPI, lease: str) -> None:
    a, b = elector(api, lease, "a"), elector(api, lease, "b")
    assert a.try_acquire_or_renew(now=0.0)
    assert not b.try_acquire_or_renew(now=1.0)
    assert a.try_acquire_or_renew(now=10.0)  # a's last renewal
    assert not b.try_acquire_or_renew(now=12.0), "b saw the renewal at 12: the lease runs to 27"
    assert not b.try_acquire_or_renew(now=26.9)
    assert b.try_acquire_or_renew(now=27.1)
    taken = spec(api, lease)
    assert taken["holderIdentity"] == "b" and taken["leaseTransitions"] == 1
    assert b.is_leader(now=27.1) and not a.is_leader(now=27.1)


def test_release_lets_another_instance_acquire_at_once(api: HttpLeaseAPI, lease: str) -> None:
    a, b = elector(api, lease, "a"), elector(api, lease, "b")
    assert a.try_acquire_or_renew(now=0.0)
    assert not b.try_acquire_or_renew(now=0.5)
    assert a.release(now=1.0)
    assert spec(api, lease)["holderIdentity"] == ""
    assert not a.is_leader(now=1.0)
    assert b.try_acquire_or_renew(now=1.1), "a released lease is free at once"
    taken = spec(api, lease)
    assert taken["holderIdentity"] == "b" and taken["leaseTransitions"] == 1
    assert b.release(now=2.0) and a.release(now=2.0), "releasing what one does not hold is a no-op"


def test_a_stale_resource_version_loses_cleanly(api: HttpLeaseAPI, lease: str) -> None:
    a, b = elector(api, lease, "a"), elector(api, lease, "b")
    assert a.try_acquire_or_renew(now=0.0)
    stale = api.get_lease("kube-system", lease)
    assert not b.try_acquire_or_renew(now=0.0)
    assert b.try_acquire_or_renew(now=15.5)  # a stalled (a long pause) and b took over

    # a still believes it leads: its fast renewal carries the old resourceVersion and gets 409.
    assert not a.try_acquire_or_renew(now=5.0)
    assert not a.is_leader(now=5.0)
    assert spec(api, lease)["holderIdentity"] == "b"

    with pytest.raises(LeaseConflict):
        api.update_lease("kube-system", lease, stale)
    with pytest.raises(LeaseConflict):
        api.create_lease("kube-system", {"metadata": {"name": lease}, "spec": {}})


def test_timings_are_checked_as_upstream_checks_them() -> None:
    api = HttpLeaseAPI("http://127.0.0.1:9", "never-used")  # the checks come before any request
    with pytest.raises(ValueError):
        LeaderElector(api, lease_name="x", identity="a", lease_duration=10.0, renew_deadline=10.0)
    with pytest.raises(ValueError):
        LeaderElector(api, lease_name="x", identity="a", renew_deadline=2.0, retry_period=2.0)
    with pytest.raises(ValueError):
        LeaderElector(api, lease_name="x", identity="")
