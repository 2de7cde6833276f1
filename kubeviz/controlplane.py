"""The control-plane process: the informer side of kube-controller-manager and kube-scheduler.

``python -m kubeviz.controlplane`` is one long-lived process (``make run`` starts it beside
Daphne and Celery).  For every cluster the explorer API lists, it stands in for the
kube-controller-manager and kube-scheduler of each master machine:

* Each instance (``master-1``, ``master-2``, …) competes for its component's Lease in
  ``kube-system`` every retry period, as upstream's ``leaderelection`` does, while its master
  machine is powered and that component is switched on there (the explorer's machines).  Only the
  holder acts: when one of this process's instances wins, the component's informers start;
  when it loses, they stop.  Another process (on another machine) running the same command
  competes for the same Leases, which is how the masters fail over.
* The running component's informers write the shared cache and queue keys; Celery workers
  reconcile them (``kubeviz.controllers.tasks``, ``kubeviz.scheduler.tasks``).

Lease renewals run here rather than on Celery beat because an elector must remember what it
last observed of the Lease for as long as its instance lives (client-go keeps that in memory
too); a beat task would forget it between runs.  The timings are upstream's (15 s lease,
10 s renew deadline, 2 s retry), divided by the cluster's speed with a floor.

It reaches everything over HTTP: the explorer API to find clusters, the Kubernetes API for
the rest.  It never imports the store or the apiserver.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import django
import httpx

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
django.setup()

from kubeviz.client import clusterinfo, internal  # noqa: E402
from kubeviz.client.clusterinfo import ClusterInfo, api_url  # noqa: E402
from kubeviz.client.leaderelection import HttpLeaseAPI, LeaderElector  # noqa: E402
from kubeviz.client.rest import Client, user_agent  # noqa: E402
from kubeviz.controllers.base import COMPONENT as KCM  # noqa: E402
from kubeviz.controllers.manager import ControllerManager  # noqa: E402
from kubeviz.controllers.registry import CONTROLLERS  # noqa: E402
from kubeviz.scheduler.loop import COMPONENT as SCHEDULER  # noqa: E402
from kubeviz.scheduler.loop import SchedulerInformers  # noqa: E402

log = logging.getLogger("kubeviz.controlplane")

DISCOVERY_PERIOD = 2.0


class Running(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


@dataclass(frozen=True)
class Timings:
    """Leader-election timings at speed 1 (upstream's defaults) and their floors."""

    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def at(self, speed: float) -> Timings:
        return Timings(
            lease_duration=max(self.lease_duration / speed, 3.0),
            renew_deadline=max(self.renew_deadline / speed, 2.0),
            retry_period=max(self.retry_period / speed, 0.5),
        )


def _build_controller_manager(info: ClusterInfo, base: str) -> Running:
    client = Client(f"{base}/k8s/{info.name}", component=KCM, name="shared-informers")
    return ControllerManager(cluster=info.name, client=client, controllers=CONTROLLERS.values())


def _build_scheduler(info: ClusterInfo, base: str) -> Running:
    client = Client(f"{base}/k8s/{info.name}", component=SCHEDULER, name="shared-informers")
    return SchedulerInformers(cluster=info.name, client=client)


BUILDERS: dict[str, Callable[[ClusterInfo, str], Running]] = {
    KCM: _build_controller_manager,
    SCHEDULER: _build_scheduler,
}


@dataclass
class ElectedComponent:
    """One component of one cluster: its instances' electors and, while leading, its informers."""

    name: str
    electors: list[LeaderElector]
    build: Callable[[], Running]
    running: Running | None = None
    #: Masters whose instance of this component may run (machine on, component switched on);
    #: None means all of them.  A stopped instance stops renewing, so its Lease expires.
    eligible: frozenset[str] | None = None

    def tick(self) -> None:
        leading = False
        for elector in self.electors:
            if self.eligible is not None and elector.identity.split("_", 1)[0] not in self.eligible:
                continue
            if elector.try_acquire_or_renew() and elector.is_leader():
                leading = True
                break  # one of our instances holds the Lease; the rest need not ask
        if leading and self.running is None:
            log.info("%s: %s is leading; starting", self.name, self.leader())
            self.running = self.build()
            self.running.start()
        elif not leading and self.running is not None:
            log.info("%s: lost the lease; stopping", self.name)
            self.running.stop()
            self.running = None

    def leader(self) -> str:
        for elector in self.electors:
            if elector.is_leader():
                return elector.identity
        return ""

    def shutdown(self) -> None:
        if self.running is not None:
            self.running.stop()
            self.running = None
        for elector in self.electors:
            if elector.is_leader():
                elector.release()


@dataclass
class ClusterControlPlane:
    """Runs the elected components of one cluster on a ticker thread."""

    info: ClusterInfo
    base: str
    process_id: str
    timings: Timings
    run: frozenset[str] = frozenset(BUILDERS)
    components: list[ElectedComponent] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _lease_clients: list[HttpLeaseAPI] = field(default_factory=list)

    def __post_init__(self) -> None:
        t = self.timings.at(self.info.speed)
        for component, build in BUILDERS.items():
            if component not in self.run:
                continue
            electors = []
            api = HttpLeaseAPI(f"{self.base}/k8s/{self.info.name}", user_agent(component, "leader-election"))
            self._lease_clients.append(api)
            for master in self.info.master_names():
                electors.append(
                    LeaderElector(
                        api,
                        lease_name=component,
                        identity=f"{master}_{self.process_id}",
                        lease_duration=t.lease_duration,
                        renew_deadline=t.renew_deadline,
                        retry_period=t.retry_period,
                    )
                )
            self.components.append(
                ElectedComponent(component, electors, build=lambda b=build: b(self.info, self.base))
            )

    def set_machines(self, machines: list[dict[str, Any]]) -> None:
        """Let only the instances on powered masters with the component switched on compete."""
        for component in self.components:
            component.eligible = frozenset(
                m["name"]
                for m in machines
                if m.get("role") == "master"
                and m.get("running")
                and any(
                    c["name"] == component.name and c.get("enabled", True) for c in m.get("components") or []
                )
            )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"controlplane:{self.info.name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        period = self.timings.at(self.info.speed).retry_period
        while not self._stop.is_set():
            for component in self.components:
                try:
                    component.tick()
                except Exception:
                    log.exception("%s/%s: tick failed", self.info.name, component.name)
            self._stop.wait(period)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
        for component in self.components:
            try:
                component.shutdown()
            except Exception:
                log.exception("%s/%s: shutdown failed", self.info.name, component.name)
        for api in self._lease_clients:
            api.close()


class ControlPlaneProcess:
    """Finds clusters through the explorer API and keeps one ClusterControlPlane per cluster."""

    def __init__(
        self,
        *,
        base: str,
        timings: Timings,
        only: set[str] | None = None,
        process_id: str | None = None,
        components: frozenset[str] = frozenset(BUILDERS),
    ) -> None:
        self.base = base.rstrip("/")
        self.components = components
        self.timings = timings
        self.only = only
        self.process_id = process_id or uuid.uuid4().hex[:8]
        self.clusters: dict[str, ClusterControlPlane] = {}
        self._http = httpx.Client(
            base_url=self.base,
            timeout=10,
            headers={"User-Agent": "kubeviz-controlplane", **internal.headers()},
        )

    def discover(self) -> None:
        """Start the control plane of new clusters and stop that of deleted ones."""
        try:
            resp = self._http.get("/api/clusters")
            resp.raise_for_status()
            items: list[dict[str, Any]] = resp.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("cannot list clusters: %s", exc)
            return
        seen = set()
        for item in items:
            info = ClusterInfo.from_explorer(item)
            if not clusterinfo.wanted(self.only, info.name):
                continue
            seen.add(info.name)
            clusterinfo.publish(info)
            machines = self._machines(info.name)
            current = self.clusters.get(info.name)
            if current is not None and current.info.uid == info.uid:
                if machines is not None:
                    current.set_machines(machines)
                continue
            if current is not None:
                current.stop()
            plane = ClusterControlPlane(info, self.base, self.process_id, self.timings, run=self.components)
            if machines is not None:
                plane.set_machines(machines)
            self.clusters[info.name] = plane
            plane.start()
        for name in sorted(set(self.clusters) - seen):
            log.info("%s: cluster gone; stopping its control plane", name)
            self.clusters.pop(name).stop()
            clusterinfo.forget(name)
        # A cluster deleted while no control-plane process ran still has its state in Redis.
        # Ask about each one again: it may be new since the list (another process published it).
        for info in clusterinfo.published():
            if info.name in seen or not clusterinfo.wanted(self.only, info.name):
                continue
            try:
                gone = self._http.get(f"/api/clusters/{info.name}").status_code == 404
            except httpx.HTTPError:
                continue
            if gone:
                log.info("%s: cluster gone; forgetting what its components kept", info.name)
                clusterinfo.forget(info.name)

    def _machines(self, cluster: str) -> list[dict[str, Any]] | None:
        """Return the cluster's machines from the explorer, or None if they cannot be read now."""
        try:
            resp = self._http.get(f"/api/clusters/{cluster}/machines")
            resp.raise_for_status()
            return list(resp.json()["items"])
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("%s: cannot list machines: %s", cluster, exc)
            return None

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.discover()
            stop.wait(DISCOVERY_PERIOD)
        for plane in self.clusters.values():
            plane.stop()
        self._http.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=api_url(), help="kubeviz's base URL (default: %(default)s)")
    parser.add_argument(
        "--cluster",
        action="append",
        help="serve only these clusters: names or patterns such as s-* (repeatable)",
    )
    parser.add_argument(
        "--id", help="this process's part of its instances' identities, master-1_<id> (default: random)"
    )
    parser.add_argument(
        "--component",
        action="append",
        choices=sorted(BUILDERS),
        help="run only these components (repeatable; default: all)",
    )
    parser.add_argument("--lease-duration", type=float, default=15.0)
    parser.add_argument("--renew-deadline", type=float, default=10.0)
    parser.add_argument("--retry-period", type=float, default=2.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("KUBEVIZ_LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    process = ControlPlaneProcess(
        base=args.api,
        timings=Timings(args.lease_duration, args.renew_deadline, args.retry_period),
        only=set(args.cluster) if args.cluster else None,
        process_id=args.id,
        components=frozenset(args.component or BUILDERS),
    )
    process.run(stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
