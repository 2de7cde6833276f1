"""``make bench`` (second part): kube-scheduler and kube-controller-manager throughput.

What runs, as ``make run`` runs it: the embedded Redis, Daphne serving the apiserver on a
temporary SQLite file, one Celery worker (thread pool of 8) and the control-plane process.
No kubelet runs: pods stay Pending after binding, which the scheduler does not care about.

Scenarios:

* ``scheduler`` — kube-scheduler alone (``--component kube-scheduler``), a cluster with N nodes (N = 100, then 1,000; 64 CPU, 256Gi and 110 pods
  each, so every pod fits) and 1,000 pending pods (100m CPU each) created *before* the control
  plane starts.  The control-plane process is then started; a watch in this process records
  the wall time at which each pod was seen bound.  Rate = bindings / (last bind − first bind).
  The per-bind gaps give p50/p99.
  Reference: the same plugins (``schedule_one`` with the default registry) over an in-memory
  snapshot of the same nodes and pods in this process, assuming each pod onto its node: the
  scheduling arithmetic with no HTTP, no Redis, no events.
* ``controller`` — a Deployment of 1,000 replicas applied to a 100-node cluster with the
  whole control plane running (this process renews the nodes' Leases, as kubelets would, so
  node lifecycle leaves them Ready): seconds from the POST to the 1,000th pod created (seen on a pod
  watch), and to the 1,000th pod bound.  Reference: one client creating 1,000 pods over the
  same HTTP API back to back (the floor of writing that many pods).

Figures are printed beside their references; the issue's targets are reported as met or
missed, never as an exit code.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from tests.bench import (
    ROOT,
    cpu_seconds,
    http_client,
    machine_info,
    quantile,
    run_main,
    server_env,
    start_daphne,
    start_redis,
    stop,
    wait_http,
)

PODS = 1000
NODE_COUNTS = (100, 1000)
REPLICAS = 1000


def node(name: str) -> dict[str, Any]:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bench"}},
        "spec": {
            "containers": [{"name": "c", "image": "nginx:1.27", "resources": {"requests": {"cpu": "100m"}}}]
        },
    }


def check(resp: httpx.Response, code: int) -> dict[str, Any]:
    if resp.status_code != code:
        raise RuntimeError(
            f"{resp.request.method} {resp.request.url}: HTTP {resp.status_code} {resp.text[:200]}"
        )
    return resp.json()


def make_cluster(url: str, name: str) -> str:
    with http_client(url) as c:
        check(c.post("/api/clusters", json={"name": name, "masters": 1, "workers": 0, "addons": False}), 201)
    return f"{url}/k8s/{name}"


def create_many(api: str, path: str, bodies: list[dict[str, Any]], *, threads: int = 4) -> list[float]:
    """POST every body (from ``threads`` clients); return each request's latency (s)."""
    latencies: list[float] = []
    lock = threading.Lock()
    chunks = [bodies[i::threads] for i in range(threads)]

    def worker(chunk: list[dict[str, Any]]) -> None:
        with http_client(api) as c:
            for body in chunk:
                t0 = time.perf_counter()
                check(c.post(path, json=body), 201)
                with lock:
                    latencies.append(time.perf_counter() - t0)

    ts = [threading.Thread(target=worker, args=(chunk,)) for chunk in chunks]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return latencies


class PodWatch:
    """Watches a namespace's pods and notes when each was first seen, and first seen bound."""

    def __init__(self, api: str, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.seen: dict[str, float] = {}
        self.bound: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> PodWatch:
        with http_client(self.api) as c:
            self._rv = check(c.get(f"/api/v1/namespaces/{self.namespace}/pods", params={"limit": "1"}), 200)[
                "metadata"
            ]["resourceVersion"]
        self._thread.start()
        return self

    def _run(self) -> None:
        params = {"watch": "true", "resourceVersion": self._rv, "timeoutSeconds": "600"}
        client = httpx.Client(base_url=self.api, timeout=httpx.Timeout(30, read=None), trust_env=False)
        path = f"/api/v1/namespaces/{self.namespace}/pods"
        with client, contextlib.suppress(httpx.HTTPError), client.stream("GET", path, params=params) as resp:
            for line in resp.iter_lines():
                if self._stop.is_set():
                    return
                if not line:
                    continue
                now = time.time()
                event = orjson.loads(line)
                obj = event.get("object") or {}
                name = (obj.get("metadata") or {}).get("name")
                if not name:
                    continue
                self.seen.setdefault(name, now)
                if (obj.get("spec") or {}).get("nodeName"):
                    self.bound.setdefault(name, now)

    def wait(self, what: str, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        table = self.seen if what == "seen" else self.bound
        while time.monotonic() < deadline:
            if len(table) >= count:
                return True
            time.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stop.set()


def rate_and_gaps(times: list[float]) -> tuple[float, float, float]:
    """Return (events per second between first and last, p50 gap ms, p99 gap ms)."""
    times = sorted(times)
    if len(times) < 2:
        return math.nan, math.nan, math.nan
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    return (len(times) - 1) / (times[-1] - times[0]), quantile(gaps, 0.5), quantile(gaps, 0.99)


def in_memory_reference(node_count: int) -> tuple[float, float, float]:
    """Schedule 1,000 pods over an in-memory snapshot with the default plugins; return rate and gaps."""
    from kubeviz.scheduler.framework.runner import schedule_one
    from kubeviz.scheduler.framework.types import build_node_infos
    from kubeviz.scheduler.plugins.registry import DEFAULT_REGISTRY

    nodes = [node(f"node-{i}") for i in range(node_count)]
    infos = build_node_infos(nodes, [])
    by_name = {i.name: i for i in infos}
    stamps = []
    start = 0
    for i in range(PODS):
        p = pod(f"p-{i}")
        p["metadata"]["namespace"] = "default"
        result = schedule_one(p, infos, registry=DEFAULT_REGISTRY, start=start)
        start = (start + result.processed) % len(infos)
        assert result.selected is not None
        by_name[result.selected].add_pod({**p, "spec": {**p["spec"], "nodeName": result.selected}})
        stamps.append(time.perf_counter())
    return rate_and_gaps(stamps)


class Stack:
    def __init__(self, stack: contextlib.ExitStack, work: Path) -> None:
        self.stack, self.work = stack, work
        redis_url = start_redis(stack, work / "redis")
        self.env = server_env(
            work / "apiserver", redis_url, f"kubeviz-benchcp-{uuid.uuid4().hex[:8]}", "kubeviz.settings"
        )
        import subprocess

        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )
        self.url, self.api_pid = start_daphne(
            stack, "kubeviz.asgi:application", self.env, work / "apiserver.log"
        )
        self.env["KUBEVIZ_API_URL"] = self.url
        self.env["KUBEVIZ_LOG_LEVEL"] = "WARNING"
        wait_http(self.url + "/api/clusters")
        self.worker = self.spawn(
            "worker",
            "-m", "celery", "-A", "kubeviz", "worker", "--pool=threads", "--concurrency=8",
            "--without-gossip", "--without-mingle", "--loglevel=WARNING",
        )  # fmt: skip

    def spawn(self, role: str, *args: str) -> Any:
        import subprocess

        out = self.stack.enter_context(open(self.work / f"{role}.log", "ab"))  # noqa: SIM115 - closed by the stack
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
        )
        self.stack.callback(stop, proc)
        return proc

    def controlplane(self, cluster: str, *components: str) -> Any:
        only = [arg for c in components for arg in ("--component", c)]
        return self.spawn(
            f"controlplane-{cluster}",
            "-m",
            "kubeviz.controlplane",
            "--api",
            self.url,
            "--cluster",
            cluster,
            *only,
        )


def cpu_shares(before: dict[str, float], after: dict[str, float], wall: float) -> str:
    """Describe each process's CPU use over ``wall`` seconds (100% = one core busy throughout)."""
    return ", ".join(f"{role} {(after[role] - before[role]) / wall:.0%}" for role in before)


def scheduler_scenario(s: Stack, node_count: int) -> tuple[float, float, float, float, str]:
    name = f"sched-{node_count}"
    api = make_cluster(s.url, name)
    create_many(api, "/api/v1/nodes", [node(f"node-{i}") for i in range(node_count)])
    create_many(api, "/api/v1/namespaces/default/pods", [pod(f"p-{i}") for i in range(PODS)])
    watch = PodWatch(api, "default").start()
    started = time.time()
    proc = s.controlplane(name, "kube-scheduler")  # the scheduler alone: no controller competes
    pids = {"apiserver": s.api_pid, "worker": s.worker.pid, "control plane": proc.pid}
    before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    ok = watch.wait("bound", PODS, timeout=600)
    after = {role: cpu_seconds(pid) for role, pid in pids.items()}
    watch.stop()
    stop(proc)
    if not ok:
        print(f"  note: only {len(watch.bound)} of {PODS} pods were bound within the time limit")
    rate, p50, p99 = rate_and_gaps(list(watch.bound.values()))
    total = max(watch.bound.values(), default=math.nan) - started
    return rate, p50, p99, total, cpu_shares(before, after, time.time() - started)


class Heartbeats:
    """Renews every node's Lease in ``kube-node-lease`` every 10 s, as kubelets do."""

    def __init__(self, api: str, nodes: list[str]) -> None:
        self.api, self.nodes = api, nodes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _renew(self, c: httpx.Client, name: str) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        spec = {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": stamp}
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"
        r = c.patch(
            f"{path}/{name}", json={"spec": spec}, headers={"Content-Type": "application/merge-patch+json"}
        )
        if r.status_code == 404:
            check(c.post(path, json={"metadata": {"name": name}, "spec": spec}), 201)

    def start(self) -> Heartbeats:
        with http_client(self.api) as c:
            for name in self.nodes:
                self._renew(c, name)
        self._thread.start()
        return self

    def _run(self) -> None:
        with http_client(self.api) as c:
            while not self._stop.wait(10):
                for name in self.nodes:
                    with contextlib.suppress(httpx.HTTPError):
                        self._renew(c, name)

    def stop(self) -> None:
        self._stop.set()


def controller_scenario(s: Stack) -> dict[str, float]:
    name = "ctrl"
    api = make_cluster(s.url, name)
    create_many(api, "/api/v1/nodes", [node(f"node-{i}") for i in range(100)])
    heartbeats = Heartbeats(api, [f"node-{i}" for i in range(100)]).start()
    with http_client(api) as c:
        check(c.post("/api/v1/namespaces", json={"metadata": {"name": "floor"}}), 201)
    # Reference: one client writing 1,000 pods back to back over the same API.
    t0 = time.perf_counter()
    create_many(api, "/api/v1/namespaces/floor/pods", [pod(f"f-{i}") for i in range(REPLICAS)], threads=1)
    floor = time.perf_counter() - t0
    proc = s.controlplane(name)
    deadline = time.monotonic() + 60
    with http_client(api) as c:
        while time.monotonic() < deadline:  # wait for the leader to hold the Lease
            r = c.get("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager")
            if r.status_code == 200 and r.json()["spec"].get("holderIdentity"):
                break
            time.sleep(0.2)
    time.sleep(3)  # the informers list after the Lease is won
    watch = PodWatch(api, "default").start()
    labels = {"app": "big"}
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "big"},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod("x")["spec"]},
        },
    }
    pids = {"apiserver": s.api_pid, "worker": s.worker.pid, "control plane": proc.pid}
    before = {role: cpu_seconds(pid) for role, pid in pids.items()}
    sent = time.time()
    with http_client(api) as c:
        check(c.post("/apis/apps/v1/namespaces/default/deployments", json=deployment), 201)
    created_ok = watch.wait("seen", REPLICAS, timeout=600)
    bound_ok = watch.wait("bound", REPLICAS, timeout=600)
    cpu = cpu_shares(before, {role: cpu_seconds(pid) for role, pid in pids.items()}, time.time() - sent)
    watch.stop()
    heartbeats.stop()
    stop(proc)
    out = {
        "floor": floor,
        "created": max(watch.seen.values(), default=math.nan) - sent if created_ok else math.nan,
        "bound": max(watch.bound.values(), default=math.nan) - sent if bound_ok else math.nan,
        "seen": len(watch.seen),
        "bound_n": len(watch.bound),
        "cpu": cpu,
    }
    return out


def run(stack: contextlib.ExitStack) -> None:
    begun = time.monotonic()
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kubeviz-benchcp-")))
    print(
        "kubeviz control-plane benchmarks — each figure beside an in-run reference (method: tests/bench_controlplane.py)"
    )
    for text in machine_info():
        print(text)
    s = Stack(stack, work)
    print(f"setup     Redis, apiserver and Celery worker up ({time.monotonic() - begun:.1f} s)")
    rows = []
    for n in NODE_COUNTS:
        print(f"running   scheduler: {PODS} pending pods, {n} nodes ...", flush=True)
        ref = in_memory_reference(n)
        rate, p50, p99, total, cpu = scheduler_scenario(s, n)
        rows.append((n, rate, p50, p99, total, cpu, ref))
    print(f"running   controller: a {REPLICAS}-replica Deployment ...", flush=True)
    ctrl = controller_scenario(s)
    print()
    print(
        f"{'scenario':46} {'rate/s':>9} {'gap p50':>9} {'gap p99':>9}   {'reference':>10} {'ratio':>7}  target"
    )
    for n, rate, p50, p99, total, cpu, (rrate, rp50, rp99) in rows:
        target = "≥ 100 pods/s" if n == 100 else "—"
        verdict = ("met" if rate >= 100 else "MISSED") if n == 100 else ""
        print(
            f"{'bind ' + str(PODS) + ' pods, ' + str(n) + ' nodes (pods/s)':46} {rate:9.1f} {p50:8.1f}ms {p99:8.1f}ms"
            f"   {rrate:10.1f} {rate / rrate:7.3f}  {target} {verdict}"
        )
        print(f"{'  (in-memory reference gaps p50 / p99)':46} {'':9} {rp50:8.1f}ms {rp99:8.1f}ms")
        print(f"{'  (start of control plane → last bind, s)':46} {total:9.1f}")
        print(f"{'  (cpu, share of one core)':46} {cpu}")
    print(
        f"{'Deployment ' + str(REPLICAS) + ': apply → last pod created (s)':46} {ctrl['created']:9.1f}"
        f"   {ctrl['floor']:10.1f} {ctrl['created'] / ctrl['floor']:7.2f}  (reference: 1 client POSTing {REPLICAS} pods)"
    )
    print(f"{'Deployment ' + str(REPLICAS) + ': apply → last pod bound (s)':46} {ctrl['bound']:9.1f}")
    print(f"{'  (cpu, share of one core)':46} {ctrl['cpu']}")
    if ctrl["seen"] < REPLICAS or ctrl["bound_n"] < REPLICAS:
        print(f"  note: saw {ctrl['seen']} pods created and {ctrl['bound_n']} bound")
    load1, load5, _ = os.getloadavg()
    print(f"total     {time.monotonic() - begun:.0f} s; load avg now {load1:.2f} / {load5:.2f}")


if __name__ == "__main__":
    sys.exit(run_main(run))
