"""``make bench``, fourth part: the canvas in headless Chromium (Debian's, software GL).

The page is the real one, served by Daphne; its websocket is answered by this script through
Playwright's ``route_web_socket`` with a synthetic cluster in the stream's own format: a
snapshot of N pods on M workers, then 200 pod status changes per second, each with the
kubelet's request trace and the watches it reached, as a busy cluster would send them.  The cluster is synthetic because
this measures the browser; the server side has its own benchmarks.

Measured per scenario:

* frame time p50/p95: the interval between animation frames (16.7 ms at 60 Hz);
* work per frame p50/p95: the loop's own JavaScript time;
* event to pixel p99: from a message's arrival in the page to the end of the frame that drew it.

In-run reference: ``/static/bench/sprites.html``, the same number of bare sprites recoloured
at the same rate, in the same browser.  A soak then runs the 1,000-pod scenario for
``KUBEVIZ_SOAK_SECONDS`` (600 by default) and reports the JS heap growth after forced GCs.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

from tests.bench import machine_info, run_main, server_env, start_daphne, start_redis
from tests.browser import ARGS, CHROMIUM

RATE = 200  # status changes per second
TICK = 0.05  # a frame of messages every 50 ms
SCENARIOS = [(1000, 50), (5000, 200)]
MEASURE_SECONDS = float(os.environ.get("KUBEVIZ_CANVAS_SECONDS", "30"))
SOAK_SECONDS = float(os.environ.get("KUBEVIZ_SOAK_SECONDS", "600"))

COMPONENTS_MASTER = [
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "flanneld",
]
COMPONENTS_WORKER = ["kubelet", "kube-proxy", "flanneld"]


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


class Synthetic:
    """A cluster of ``pods`` pods on ``workers`` workers, in the stream's message format."""

    def __init__(self, pods: int, workers: int) -> None:
        self.workers = [f"worker-{i + 1}" for i in range(workers)]
        self.revision = 1
        self.pods = [self._pod(i) for i in range(pods)]
        self.flip = 0
        self.seq = 0

    def _pod(self, i: int) -> dict[str, Any]:
        return {
            "kind": "Pod",
            "apiVersion": "v1",
            "metadata": {"name": f"app-{i}", "namespace": "default", "uid": f"uid-{i}", "resourceVersion": "1",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"nodeName": self.workers[i % len(self.workers)], "containers": [{"name": "app", "image": "nginx"}]},
            "status": {"phase": "Running"},
        }  # fmt: skip

    def machines(self) -> list[dict[str, Any]]:
        def m(name: str, role: str, comps: list[str]) -> dict[str, Any]:
            return {
                "name": name,
                "role": role,
                "running": True,
                "components": [{"name": c, "running": True} for c in comps],
            }

        return [m("master-1", "master", COMPONENTS_MASTER)] + [
            m(w, "worker", COMPONENTS_WORKER) for w in self.workers
        ]

    def frame(self, messages: list[dict[str, Any]]) -> str:
        self.seq += 1
        return orjson.dumps({"seq": self.seq, "messages": messages}).decode()

    def snapshot(self) -> str:
        nodes = [
            {"kind": "Node", "apiVersion": "v1", "metadata": {"name": n, "uid": f"node-{n}", "resourceVersion": "1"},
             "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
            for n in ["master-1", *self.workers]
        ]  # fmt: skip
        objects = [
            {"kind": o["kind"], "group": "", "resource": o["kind"].lower() + "s", "object": o}
            for o in nodes + self.pods
        ]
        return self.frame(
            [
                {
                    "type": "snapshot",
                    "cluster": "bench",
                    "revision": 1,
                    "machines": self.machines(),
                    "objects": objects,
                }
            ]
        )

    def changes(self, count: int) -> str:
        messages = []
        for _ in range(count):
            pod = self.pods[self.flip % len(self.pods)]
            self.flip += 1
            self.revision += 1
            pod["status"] = {"phase": "Pending" if pod["status"]["phase"] == "Running" else "Running"}
            pod["metadata"]["resourceVersion"] = str(self.revision)
            node = pod["spec"]["nodeName"]
            messages.append({"type": "request", "component": "kubelet", "client": node, "verb": "patch", "resource": "pods",
                             "subresource": "status", "namespace": "default", "name": pod["metadata"]["name"], "code": 200,
                             "latency": 3.0, "revision": self.revision})  # fmt: skip
            messages.append({"type": "event", "event": "MODIFIED", "kind": "Pod", "group": "", "resource": "pods",
                             "namespace": "default", "name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"],
                             "revision": self.revision, "object": pod})  # fmt: skip
            # The watches a pod's change reaches: the controllers, the scheduler, its own kubelet.
            watchers = ["kube-controller-manager/replicaset", "kube-scheduler/scheduler", f"kubelet/{node}"]
            messages.append({"type": "delivered", "revision": self.revision, "watchers": watchers})
        return self.frame(messages)


def drive(page: Any, synthetic: Synthetic, seconds: float) -> None:
    """Send RATE changes a second for ``seconds`` to the page's stream (the last routed socket)."""
    per_tick = max(1, round(RATE * TICK))
    deadline = time.monotonic() + seconds
    next_tick = time.monotonic()
    while time.monotonic() < deadline:
        page.sockets[-1].send(synthetic.changes(per_tick))
        next_tick += TICK
        page.wait_for_timeout(max(0.0, next_tick - time.monotonic()) * 1000)


def open_canvas(browser: Any, url: str, synthetic: Synthetic) -> Any:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    sockets: list[Any] = []

    def answer(ws: Any) -> None:
        sockets.append(ws)
        ws.on_message(lambda _message: None)  # acknowledgements: this server never waits for them
        ws.send(synthetic.snapshot())

    page.route_web_socket("**/ws/clusters/**", answer)
    page.sockets = sockets
    page.goto(f"{url}/clusters/bench/")
    page.wait_for_function(
        f"window.kubeviz && window.kubeviz.scene().pods.length === {len(synthetic.pods)}", timeout=120_000
    )
    return page


def measure_canvas(browser: Any, url: str, pods: int, workers: int) -> dict[str, float]:
    synthetic = Synthetic(pods, workers)
    page = open_canvas(browser, url, synthetic)
    drive(page, synthetic, 5)  # warm up
    start = page.evaluate(
        "[window.kubeviz.intervals().length, window.kubeviz.frames().length, window.kubeviz.latency().length]"
    )
    drive(page, synthetic, MEASURE_SECONDS)
    intervals = page.evaluate("window.kubeviz.intervals()")[start[0] :]
    work = page.evaluate("window.kubeviz.frames()")[start[1] :]
    latency = page.evaluate("window.kubeviz.latency()")[start[2] :]
    flows = page.evaluate("window.kubeviz.scene().flows")
    page.close()
    return {
        "frame50": pct(intervals, 0.5), "frame95": pct(intervals, 0.95), "frames": len(intervals),
        "work50": pct(work, 0.5), "work95": pct(work, 0.95),
        "lat50": pct(latency, 0.5), "lat99": pct(latency, 0.99), "flows": flows,
    }  # fmt: skip


def measure_reference(browser: Any, url: str, pods: int) -> dict[str, float]:
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.goto(f"{url}/static/bench/sprites.html?n={pods}&rate={RATE}")
    page.wait_for_function("window.reference && window.reference.intervals().length > 10", timeout=60_000)
    page.wait_for_timeout(5_000)
    start = page.evaluate("window.reference.intervals().length")
    page.wait_for_timeout(MEASURE_SECONDS * 1000)
    intervals = page.evaluate("window.reference.intervals()")[start:]
    page.close()
    return {"frame50": pct(intervals, 0.5), "frame95": pct(intervals, 0.95), "frames": len(intervals)}


def heap(page: Any) -> float:
    cdp = page.context.new_cdp_session(page)
    cdp.send("HeapProfiler.collectGarbage")
    used = cdp.send("Runtime.getHeapUsage")["usedSize"]
    cdp.detach()
    return used / 2**20


def soak(browser: Any, url: str) -> dict[str, float]:
    synthetic = Synthetic(1000, 50)
    page = open_canvas(browser, url, synthetic)
    drive(page, synthetic, min(120, SOAK_SECONDS / 3))  # the timeline fills its budget first
    before = heap(page)
    drive(page, synthetic, SOAK_SECONDS)
    after = heap(page)
    page.close()
    return {"before": before, "after": after, "growth": after - before}


def run(stack: contextlib.ExitStack) -> None:
    from playwright.sync_api import sync_playwright

    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kubeviz-bench-canvas-")))
    redis = start_redis(stack, work)
    env = server_env(work / "server", redis, "kubeviz-bench-canvas", "kubeviz.settings")
    url, _ = start_daphne(stack, "kubeviz.asgi:application", env, work / "daphne.log")
    from tests.conftest import _wait_http

    _wait_http(url + "/static/bench/sprites.html")
    print("canvas benchmark (make bench, part 4): headless Chromium, software GL")
    for line in machine_info()[:2]:  # the machine and the software; the load is this benchmark's own
        print(line)
    print(
        f"load      {RATE} pod status changes/s (each a request trace, a watch event and its deliveries); {MEASURE_SECONDS:.0f} s per row"
    )
    pw = stack.enter_context(sync_playwright())
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    stack.callback(browser.close)
    print(f"\n{'scenario':<24}{'frame p50':>10}{'frame p95':>10}{'work p50':>10}{'work p95':>10}{'evt→px p50':>12}{'evt→px p99':>12}"
          f"{'ref p50':>9}{'ref p95':>9}{'p95/ref':>9}")  # fmt: skip
    for pods, workers in SCENARIOS:
        ref = measure_reference(browser, url, pods)
        got = measure_canvas(browser, url, pods, workers)
        ratio = got["frame95"] / ref["frame95"] if ref["frame95"] else math.nan
        print(f"{f'{pods} pods / {workers} nodes':<24}{got['frame50']:>10.1f}{got['frame95']:>10.1f}{got['work50']:>10.1f}"
              f"{got['work95']:>10.1f}{got['lat50']:>12.1f}{got['lat99']:>12.1f}{ref['frame50']:>9.1f}{ref['frame95']:>9.1f}{ratio:>9.2f}",
              flush=True)  # fmt: skip
    print(
        "(ms; frame = interval between animation frames; work = the canvas loop's own time; ref = bare sprites)"
    )
    if SOAK_SECONDS > 0:
        s = soak(browser, url)
        print(f"\nsoak      1000 pods / 50 nodes, {SOAK_SECONDS:.0f} s: JS heap {s['before']:.1f} MB → {s['after']:.1f} MB "
              f"(growth {s['growth']:+.1f} MB, after forced GCs)")  # fmt: skip


if __name__ == "__main__":
    sys.exit(run_main(run))
