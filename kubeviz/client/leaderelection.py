"""Leader election on ``coordination.k8s.io/v1`` Leases, as client-go does it.

Mirrors ``k8s.io/client-go/tools/leaderelection`` (``leaderelection.go`` and
``resourcelock/leaselock.go``).  kube-controller-manager and kube-scheduler run several
instances; only the holder of their Lease in ``kube-system`` works.

Contract
--------
* ``try_acquire_or_renew(now)`` makes one attempt and answers whether this instance leads:

  1. A leader first tries a fast renewal: a PUT of the Lease it last wrote, which carries that
     Lease's ``resourceVersion``.
  2. Otherwise it reads the Lease and creates it if it is missing.  The new Lease holds
     ``holderIdentity``, ``leaseDurationSeconds``, ``acquireTime`` and ``renewTime`` (RFC 3339
     MicroTime) and ``leaseTransitions`` 0.
  3. If another identity holds the Lease and the Lease has not expired, the answer is False.
  4. Otherwise it takes the Lease over, or renews it, with a PUT that carries the
     ``resourceVersion`` it read.  A takeover adds one to ``leaseTransitions``.  A renewal
     keeps ``acquireTime``.
* Optimistic concurrency decides races: the apiserver answers 409 to a PUT with a stale
  ``resourceVersion``, and the attempt returns False.  Two candidates can never both believe
  they won.
* Expiry is judged as upstream judges it.  A Lease is expired when this instance has seen no
  change to it for ``leaseDurationSeconds`` on its *own* clock (``clock``, monotonic).  The
  ``renewTime`` written by another host's wall clock is not used, so clock skew between hosts
  cannot cut a lease short.  ``wall_clock`` only stamps ``acquireTime`` and ``renewTime``.
* ``is_leader()`` is True while this instance holds the Lease and has renewed it within
  ``renew_deadline``.  A leader that cannot renew in time stops leading before another
  instance may take over (``renew_deadline < lease_duration``).
* ``release()`` clears ``holderIdentity``, so another instance can acquire the Lease at once.

This module holds no loop: Celery beat calls ``try_acquire_or_renew`` every ``retry_period``
(DESIGN.md rule 4).  The elector keeps what it has observed in memory, so one elector object
must live as long as the component instance it stands for.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx

from kubeviz.client import rest

LEASES = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
#: client-go's JitterFactor: retry_period * 1.2 must fit inside renew_deadline.
JITTER_FACTOR = 1.2


class LeaseConflict(Exception):
    """Raised when the apiserver refuses a Lease write with 409: someone else wrote first."""


class LeaseAPI(Protocol):
    """Reads and writes Leases. ``HttpLeaseAPI`` speaks HTTP, and tests may bring their own."""

    def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return the Lease, or None if it does not exist."""
        ...

    def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create the Lease and return it; raise LeaseConflict if it already exists."""
        ...

    def update_lease(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the Lease and return it; raise LeaseConflict on a stale resourceVersion."""
        ...


class HttpLeaseAPI:
    """Implements ``LeaseAPI`` over the Kubernetes REST API with httpx."""

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        *,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            verify=rest.tls_context(),
        )

    def get_lease(self, namespace: str, name: str) -> dict[str, Any] | None:
        """Return the Lease, or None on 404."""
        resp = self._http.get(f"{LEASES.format(namespace=namespace)}/{name}")
        if resp.status_code == 404:
            return None
        return _checked(resp)

    def create_lease(self, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST the Lease; raise LeaseConflict on 409 AlreadyExists."""
        return _checked(self._http.post(LEASES.format(namespace=namespace), json=body))

    def update_lease(self, namespace: str, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUT the Lease; raise LeaseConflict on 409 Conflict."""
        return _checked(self._http.put(f"{LEASES.format(namespace=namespace)}/{name}", json=body))

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()


def _checked(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code == 409:
        raise LeaseConflict(resp.json().get("message", resp.text))
    resp.raise_for_status()
    return resp.json()


def micro_time(moment: datetime) -> str:
    """Format ``moment`` as a Kubernetes MicroTime: RFC 3339 in UTC with microseconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_now() -> datetime:
    """Return the current wall-clock time in UTC."""
    return datetime.now(UTC)


def _holder(lease: dict[str, Any] | None) -> str:
    return ((lease or {}).get("spec") or {}).get("holderIdentity") or ""


class LeaderElector:
    """Competes for one Lease on behalf of one identity (client-go's ``LeaderElector``)."""

    def __init__(
        self,
        api: LeaseAPI,
        *,
        lease_name: str,
        identity: str,
        namespace: str = "kube-system",
        lease_duration: float = 15.0,
        renew_deadline: float = 10.0,
        retry_period: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not identity:
            raise ValueError("identity must not be empty")
        if not lease_duration > renew_deadline > JITTER_FACTOR * retry_period > 0:
            raise ValueError("need lease_duration > renew_deadline > 1.2 * retry_period > 0")
        self.api = api
        self.lease_name = lease_name
        self.namespace = namespace
        self.identity = identity
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self._clock = clock
        self._wall_clock = wall_clock
        self._observed: dict[str, Any] | None = None  # the Lease as last read or written
        self._observed_spec: dict[str, Any] = {}
        self._observed_at = 0.0  # our clock when the spec last changed
        self._renewed_at: float | None = None  # our clock at our last successful write

    # --- the algorithm ------------------------------------------------------------------------

    def try_acquire_or_renew(self, now: float | None = None) -> bool:
        """Make one attempt to acquire or renew the Lease; return whether this instance leads."""
        now = self._clock() if now is None else now
        if self._holds_observed() and self._observed_valid(now) and self._write(self._renewal(), now):
            return True
        try:
            lease = self.api.get_lease(self.namespace, self.lease_name)
        except (httpx.HTTPError, LeaseConflict):
            return False
        if lease is None:
            return self._create(now)
        self._observe(lease, now)
        if _holder(lease) and _holder(lease) != self.identity and self._observed_valid(now):
            return False
        spec = self._renewal() if _holder(lease) == self.identity else self._takeover()
        return self._write(spec, now)

    def is_leader(self, now: float | None = None) -> bool:
        """Return whether this instance holds the Lease and renewed it within renew_deadline."""
        now = self._clock() if now is None else now
        return (
            self._holds_observed()
            and self._renewed_at is not None
            and now - self._renewed_at < self.renew_deadline
        )

    def release(self, now: float | None = None) -> bool:
        """Give the Lease up by clearing its holder; return True if nothing is held any more."""
        now = self._clock() if now is None else now
        if not self._holds_observed():
            return True
        stamp = micro_time(self._wall_clock())
        spec = {
            "holderIdentity": "",
            "leaseDurationSeconds": 1,
            "acquireTime": stamp,
            "renewTime": stamp,
            "leaseTransitions": self._observed_spec.get("leaseTransitions", 0),
        }
        released = self._write(spec, now)
        self._renewed_at = None
        return released

    def observed_lease(self) -> dict[str, Any] | None:
        """Return the Lease as this instance last read or wrote it."""
        return self._observed

    # --- steps --------------------------------------------------------------------------------

    def _create(self, now: float) -> bool:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.lease_name, "namespace": self.namespace},
            "spec": self._takeover(transitions=0),
        }
        try:
            created = self.api.create_lease(self.namespace, body)
        except (httpx.HTTPError, LeaseConflict):
            return False
        self._observe(created, now)
        self._renewed_at = now
        return True

    def _write(self, spec: dict[str, Any], now: float) -> bool:
        assert self._observed is not None
        body = {**self._observed, "spec": {**(self._observed.get("spec") or {}), **spec}}
        try:
            written = self.api.update_lease(self.namespace, self.lease_name, body)
        except (httpx.HTTPError, LeaseConflict):
            return False
        self._observe(written, now)
        self._renewed_at = now if spec.get("holderIdentity") == self.identity else None
        return True

    def _renewal(self) -> dict[str, Any]:
        spec = self._record(self._wall_clock())
        spec["acquireTime"] = self._observed_spec.get("acquireTime") or spec["acquireTime"]
        spec["leaseTransitions"] = self._observed_spec.get("leaseTransitions", 0)
        return spec

    def _takeover(self, *, transitions: int | None = None) -> dict[str, Any]:
        spec = self._record(self._wall_clock())
        if transitions is None:
            transitions = int(self._observed_spec.get("leaseTransitions") or 0) + 1
        spec["leaseTransitions"] = transitions
        return spec

    def _record(self, moment: datetime) -> dict[str, Any]:
        stamp = micro_time(moment)
        return {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": max(1, int(self.lease_duration)),
            "acquireTime": stamp,
            "renewTime": stamp,
        }

    # --- what we have seen ----------------------------------------------------------------------

    def _observe(self, lease: dict[str, Any], now: float) -> None:
        spec = dict(lease.get("spec") or {})
        if spec != self._observed_spec:
            self._observed_spec = spec
            self._observed_at = now
        self._observed = lease

    def _holds_observed(self) -> bool:
        return self._observed_spec.get("holderIdentity") == self.identity

    def _observed_valid(self, now: float) -> bool:
        duration = float(self._observed_spec.get("leaseDurationSeconds") or 0)
        return self._observed_at + duration > now
