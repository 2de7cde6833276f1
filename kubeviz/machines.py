"""The machines process: the informer side of every node's agents.

``python -m kubeviz.machines`` is one long-lived process (``make run`` starts it beside the
control-plane process).  It finds clusters and their machines through the explorer API and,
for every machine that is powered on, runs what each node agent watches:

* **kubelet** (while its switch is on): pods with ``fieldSelector=spec.nodeName=<node>`` and
  its own Node, written into the kubelet's shared cache; each pod event queues the pod's key
  for the pod workers (``kubeviz.kubelet.tasks``).  Its heartbeat (registration, Lease,
  node status, mirror pods: ``kubelet.node.NodeLoop``) runs here too, on a few threads of
  its own.  A heartbeat is a kubelet's own loop beside its pod workers; run on the Celery
  pool, it waited behind a backlog of reconciles and healthy nodes were declared dead.
* **kube-proxy**, only while the node's kube-proxy pod runs: Services, EndpointSlices and its
  own Node; every event queues one rule sync of that node (``kubeviz.proxy``).
* **the Network Daemon** (flanneld, calico-felix or cilium-agent), only while its pod runs on
  the node: Nodes; every event queues one route sync (``kubeviz.netd``).
* **coredns**, one set per coredns pod running on the node: Services and EndpointSlices,
  which the DNS answers read (``kubeviz.dns``).

"A component runs when its pod runs": the agents start and stop as the kubelet's cache shows
their pods' containers running or not, so deleting the kube-proxy DaemonSet stops rule
programming on every node.  Reconciles run on Celery workers; this process only watches, and
it reaches everything over HTTP.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import django
import httpx
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
django.setup()

from kubeviz.client import (  # noqa: E402
    ENDPOINTSLICES,
    NODES,
    PODS,
    SERVICES,
    APIStatusError,
    cache_key,
    clusterinfo,  # noqa: E402
    internal,
    liveness,
)
from kubeviz.client.clusterinfo import ClusterInfo, api_url, client_for  # noqa: E402
from kubeviz.client.factory import InformerFactory  # noqa: E402
from kubeviz.client.informer import Informer, Obj  # noqa: E402
from kubeviz.client.rest import Resource  # noqa: E402
from kubeviz.client.sharedcache import CacheWriter  # noqa: E402
from kubeviz.client.workqueue import WorkQueue  # noqa: E402
from kubeviz.cluster.addons import NETWORK_DAEMONS  # noqa: E402
from kubeviz.kubelet import switches  # noqa: E402
from kubeviz.kubelet.node import (  # noqa: E402
    NODE_LEASE_RENEW_SECONDS,
    MachineView,
    NodeLoop,
    cache_component,
)

log = logging.getLogger("kubeviz.machines")

DISCOVERY_PERIOD = 2.0
GATE_PERIOD = 0.5
#: Threads that run kubelet heartbeats; a slow apiserver delays a heartbeat, never skips one.
#: A beat is three or four requests that mostly wait on the apiserver, so with 100 nodes and
#: a loaded apiserver (about a second per request) 8 threads took longer than the Lease's
#: grace period to go round, and healthy nodes went Unknown; 32 keep a round near 10 s.
HEARTBEAT_WORKERS = 32
HEARTBEAT_TICK = 0.25
#: The shortest Lease renewal period, whatever the speed (seconds).
MIN_RENEW_SECONDS = 1.0


def pods_running(pods: list[Obj], component: str) -> list[Obj]:
    """Return the pods of ``component`` whose containers are all running."""
    found = []
    for pod in pods:
        if switches.component_of(pod) != component or (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        if statuses and all("running" in (s.get("state") or {}) for s in statuses):
            found.append(pod)
    return found


class Agent:
    """The informers of one node agent: a factory writing its cache, and a key per event.

    ``name`` is the agent's cache name (``kube-proxy@worker-1``); it is marked alive while
    the agent runs, and stopping it unmarks it at once and stops its informers in the
    background, so the gate loop never waits on a closing watch.
    """

    def __init__(
        self,
        *,
        cluster: str,
        component: str,
        identity: str,
        cache: str,
        watches: dict[Resource, str | None],
        on_event: Callable[[Resource, Obj, bool], None],
    ) -> None:
        self.cluster = cluster
        self.name = cache
        client = client_for(cluster, component, identity)

        def make(client: Any, resource: Resource, **kwargs: Any) -> Informer:
            return Informer(client, resource, field_selector=watches.get(resource), **kwargs)

        self.factory = InformerFactory(
            client, CacheWriter(cluster=cluster, component=cache), make_informer=make
        )
        for resource in watches:
            handle = functools.partial(on_event, resource)
            self.factory.add_handlers(
                resource,
                on_add=lambda obj, h=handle: h(obj, False),
                on_update=lambda _old, new, h=handle: h(new, False),
                on_delete=lambda obj, h=handle: h(obj, True),
            )

    def start(self) -> None:
        liveness.mark_alive(self.cluster, [self.name])
        self.factory.start()

    def stop(self, *, wait: bool = False) -> None:
        liveness.mark_dead(self.cluster, self.name)
        if wait:
            self.factory.stop()
        else:
            threading.Thread(target=self.factory.stop, name=f"stop:{self.name}", daemon=True).start()


@dataclass
class NodeAgents:
    """Everything watched on behalf of one node, and its kubelet's heartbeat."""

    cluster: str
    node: str
    kubelet: Agent
    machine: MachineView | None = None
    next_beat: float = 0.0
    beating: Future[None] | None = None
    proxy: Agent | None = None
    netd: Agent | None = None
    coredns: dict[str, Agent] = field(default_factory=dict)

    def agents(self) -> list[Agent]:
        return [a for a in [self.kubelet, self.proxy, self.netd, *self.coredns.values()] if a is not None]

    def stop(self) -> None:
        for agent in self.agents():
            agent.stop()


def kubelet_agent(cluster: str, node: str) -> Agent:
    pods = WorkQueue("kubelet")

    def on_pod(resource: Resource, obj: Obj, _deleted: bool) -> None:
        if resource == PODS:
            pods.add(f"{cluster}|{node}|{cache_key(obj)}")

    return Agent(
        cluster=cluster,
        component="kubelet",
        identity=node,
        cache=cache_component(node),
        watches={PODS: f"spec.nodeName={node}", NODES: f"metadata.name={node}"},
        on_event=on_pod,
    )


def node_agent(cluster: str, node: str, *, component: str, cache: str, queue: str, watches: dict) -> Agent:
    work = WorkQueue(queue)
    key = f"{cluster}|{node}"
    return Agent(
        cluster=cluster,
        component=component,
        identity=node,
        cache=cache,
        watches=watches,
        on_event=lambda _resource, _obj, _deleted: work.add(key),
    )


class ClusterMachines:
    """The node agents of one cluster, kept in step with its machines and pods."""

    def __init__(self, info: ClusterInfo) -> None:
        self.info = info
        self.nodes: dict[str, NodeAgents] = {}

    def converge(self, machines: list[dict[str, Any]]) -> None:
        """Start the kubelet informers of running kubelets and stop the rest."""
        wanted: dict[str, MachineView] = {}
        for m in machines:
            kubelet_on = m.get("running") and any(
                c["name"] == "kubelet" and c.get("enabled", c.get("running"))
                for c in m.get("components") or []
            )
            if kubelet_on:
                res = m.get("resources") or {}
                wanted[m["name"]] = MachineView(
                    m["name"], m["role"], m["ip"], m["bootID"], res.get("cpu", "4"), res.get("memory", "16Gi"),
                    res.get("pods", "110"),
                )  # fmt: skip
        for name in sorted(set(self.nodes) - set(wanted)):
            log.info("%s/%s: kubelet stopped", self.info.name, name)
            self.nodes.pop(name).stop()
        for name in sorted(set(wanted) - set(self.nodes)):
            log.info("%s/%s: kubelet started", self.info.name, name)
            agents = NodeAgents(self.info.name, name, kubelet_agent(self.info.name, name))
            agents.kubelet.start()
            self.nodes[name] = agents
        for name, machine in wanted.items():
            self.nodes[name].machine = machine

    def heartbeat(self, pool: ThreadPoolExecutor, now: float) -> None:
        """Run the node loop of every kubelet whose Lease renewal is due (one at a time per node)."""
        period = max(NODE_LEASE_RENEW_SECONDS / self.info.speed, MIN_RENEW_SECONDS)
        for agents in list(self.nodes.values()):
            if agents.machine is None or now < agents.next_beat:
                continue
            if agents.beating is not None and not agents.beating.done():
                continue
            agents.next_beat = now + period
            loop = NodeLoop(cluster=self.info.name, machine=agents.machine, info=self.info)
            agents.beating = pool.submit(_beat, loop)

    def gate(self) -> None:
        """Run each node's pod-run agents exactly while their pods run; refresh their liveness."""
        daemon = NETWORK_DAEMONS.get(self.info.cni, "")
        nodes = list(self.nodes.values())
        liveness.mark_alive(self.info.name, [a.name for n in nodes for a in n.agents()])
        for agents in nodes:
            informer = agents.kubelet.factory.informer(PODS)
            if not informer.has_synced():
                continue
            pods = informer.items()
            agents.proxy = self._toggle(
                agents.proxy, bool(pods_running(pods, "kube-proxy")), lambda a=agents: self._proxy(a.node)
            )
            agents.netd = self._toggle(
                agents.netd, bool(pods_running(pods, daemon)), lambda a=agents: self._netd(a.node, daemon)
            )
            dns = {cache_key(p): p for p in pods_running(pods, "coredns")}
            for key in sorted(set(agents.coredns) - set(dns)):
                agents.coredns.pop(key).stop()
            for key in sorted(set(dns) - set(agents.coredns)):
                agent = Agent(
                    cluster=self.info.name,
                    component="coredns",
                    identity=key.replace("/", "."),
                    cache=f"coredns@{key}",
                    watches={SERVICES: None, ENDPOINTSLICES: None},
                    on_event=lambda _resource, _obj, _deleted: None,
                )
                agent.start()
                agents.coredns[key] = agent

    @staticmethod
    def _toggle(current: Agent | None, run: bool, build: Callable[[], Agent]) -> Agent | None:
        if run and current is None:
            agent = build()
            agent.start()
            return agent
        if not run and current is not None:
            current.stop()
            return None
        return current

    def _proxy(self, node: str) -> Agent:
        return node_agent(
            self.info.name,
            node,
            component="kube-proxy",
            cache=f"kube-proxy@{node}",
            queue="kube-proxy",
            watches={SERVICES: None, ENDPOINTSLICES: None, NODES: f"metadata.name={node}"},
        )

    def _netd(self, node: str, daemon: str) -> Agent:
        work = WorkQueue("netd")
        key = f"{self.info.name}|{node}"
        seen: dict[str, tuple[str, str]] = {}

        def on_node(_resource: Resource, obj: Obj, deleted: bool) -> None:
            # Like flannel's subnet manager, react only when a node's route-relevant fields move.
            name = obj["metadata"]["name"]
            spec, status = obj.get("spec") or {}, obj.get("status") or {}
            ip = next(
                (a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), ""
            )
            now = (spec.get("podCIDR") or "", ip)
            if deleted:
                seen.pop(name, None)
                work.add(key)
            elif seen.get(name) != now:
                seen[name] = now
                work.add(key)

        return Agent(
            cluster=self.info.name,
            component=daemon,
            identity=node,
            cache=f"netd@{node}",
            watches={NODES: None},
            on_event=on_node,
        )

    def stop(self) -> None:
        for agents in self.nodes.values():
            agents.stop()
        self.nodes.clear()


def _beat(loop: NodeLoop) -> None:
    try:
        loop.beat(renew_lease=True)
    except APIStatusError as exc:  # a conflict or overload: the next beat tries again
        log.warning("%s/%s: kubelet heartbeat: %s", loop.cluster, loop.machine.name, exc)
    except Exception:
        log.exception("%s/%s: kubelet heartbeat failed", loop.cluster, loop.machine.name)
    finally:
        close_old_connections()


class MachinesProcess:
    def __init__(self, *, base: str, only: set[str] | None = None) -> None:
        self.base = base.rstrip("/")
        self.only = only
        self._beats = ThreadPoolExecutor(max_workers=HEARTBEAT_WORKERS, thread_name_prefix="heartbeat")
        self.clusters: dict[str, ClusterMachines] = {}
        self._uids: dict[str, str] = {}
        self._http = httpx.Client(
            base_url=self.base, timeout=10, headers={"User-Agent": "kubeviz-machines", **internal.headers()}
        )

    def discover(self) -> None:
        try:
            resp = self._http.get("/api/clusters")
            resp.raise_for_status()
            items = resp.json()["items"]
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("cannot list clusters: %s", exc)
            return
        seen = set()
        for item in items:
            info = ClusterInfo.from_explorer(item)
            if not clusterinfo.wanted(self.only, info.name):
                continue
            try:
                resp = self._http.get(f"/api/clusters/{info.name}/machines")
                if resp.status_code == 404:
                    continue
                resp.raise_for_status()
                machines = resp.json()["items"]
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                log.warning("%s: cannot list machines: %s", info.name, exc)
                seen.add(info.name)
                continue
            seen.add(info.name)
            clusterinfo.publish(info)
            current = self.clusters.get(info.name)
            if current is not None and current.info.uid != info.uid:
                current.stop()
                current = None
            if current is None:
                current = self.clusters[info.name] = ClusterMachines(info)
            current.converge(machines)
        for name in sorted(set(self.clusters) - seen):
            log.info("%s: cluster gone; stopping its machines", name)
            self.clusters.pop(name).stop()

    def gate(self) -> None:
        for cluster in list(self.clusters.values()):
            try:
                cluster.gate()
            except Exception:
                log.exception("%s: gating the node agents failed", cluster.info.name)

    def heartbeats(self, stop: threading.Event) -> None:
        """Submit due kubelet heartbeats, on a thread of its own so a slow discovery never delays one."""
        while not stop.wait(HEARTBEAT_TICK):
            for cluster in list(self.clusters.values()):
                try:
                    cluster.heartbeat(self._beats, time.monotonic())
                except Exception:
                    log.exception("%s: scheduling heartbeats failed", cluster.info.name)

    def gates(self, stop: threading.Event) -> None:
        while not stop.wait(GATE_PERIOD):
            self.gate()

    def run(self, stop: threading.Event) -> None:
        loops = [
            threading.Thread(target=self.heartbeats, args=(stop,), name="heartbeats", daemon=True),
            threading.Thread(target=self.gates, args=(stop,), name="gates", daemon=True),
        ]
        for loop in loops:
            loop.start()
        while not stop.is_set():
            self.discover()
            stop.wait(DISCOVERY_PERIOD)
        for loop in loops:
            loop.join(10)
        for cluster in self.clusters.values():
            cluster.stop()
        self._beats.shutdown(wait=True, cancel_futures=True)
        self._http.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", default=api_url(), help="kubeviz's base URL (default: %(default)s)")
    parser.add_argument(
        "--cluster",
        action="append",
        help="serve only these clusters: names or patterns such as s-* (repeatable)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("KUBEVIZ_LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(message)s"
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    MachinesProcess(base=args.api, only=set(args.cluster) if args.cluster else None).run(stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
