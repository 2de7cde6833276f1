"""A whole kubeviz as ``make run`` runs it, for the node-agent tests: every process is real.

Daphne (the session's live server), a Celery worker and beat, the control-plane process and
the machines process, with their own Redis prefix and Celery queue so they serve only the
clusters made here.  Three clusters cover the three CNI flavours and both proxy modes.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubeviz.client import Client
from tests.conftest import ROOT, LiveServer, _wait_http, free_port, live_env

TOOLS = ROOT / "var" / "tools"

#: name suffix -> topology
FLAVOURS = {
    "flannel": {"masters": 1, "workers": 3, "cni": "flannel", "proxyMode": "iptables"},
    "calico": {"masters": 1, "workers": 2, "cni": "calico", "proxyMode": "ipvs"},
    # The browser tests' own cluster, so what they stop does not disturb the node tests.
    "canvas": {"masters": 1, "workers": 2, "cni": "flannel", "proxyMode": "iptables"},
    # The forms tests' own cluster: the canvas tests leave a worker powered off.
    "forms": {"masters": 1, "workers": 2, "cni": "flannel", "proxyMode": "iptables"},
    "cilium": {
        "masters": 1,
        "workers": 2,
        "cni": "cilium",
        "proxyMode": "iptables",
        "mastersSchedulable": True,
    },
}


@dataclass
class Cluster:
    name: str
    base: str
    kubeconfig: Path
    client: Client
    workdir: Path

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.request(method, f"{self.base}/api/clusters/{self.name}{path}", timeout=30, **kwargs)

    def machines(self) -> dict[str, dict[str, Any]]:
        return {m["name"]: m for m in self.api("GET", "/machines").json()["items"]}

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(self.workdir), "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run(
            [str(TOOLS / "kubectl"), *args], capture_output=True, text=True, timeout=timeout, env=env
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc


@dataclass
class Stack:
    server: LiveServer
    env: dict[str, str]
    workdir: Path
    clusters: dict[str, Cluster] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, role: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{role}.log", "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs[role] = proc
        return proc

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-tail:]}"
            for p in sorted(self.workdir.glob("*.log"))
        )


def _make_cluster(server: LiveServer, workdir: Path, flavour: str) -> Cluster:
    name = f"m{flavour[:3]}-{uuid.uuid4().hex[:6]}"
    resp = httpx.post(f"{server.url}/api/clusters", json={"name": name, **FLAVOURS[flavour]}, timeout=60)
    assert resp.status_code == 201, resp.text
    kubeconfig = workdir / f"kubeconfig-{flavour}"
    kubeconfig.write_text(httpx.get(f"{server.url}/api/clusters/{name}/kubeconfig", timeout=10).text)
    apiserver = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    return Cluster(
        name, server.url, kubeconfig, Client(apiserver, component="kubectl", name="tests"), workdir
    )


@pytest.fixture(scope="session")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("machines")
    env = live_env(workdir, redis_url)
    env.update(
        {
            "KUBEVIZ_REDIS_PREFIX": env["KUBEVIZ_REDIS_PREFIX"] + "-machines",
            "KUBEVIZ_CELERY_QUEUE": f"machines-{uuid.uuid4().hex[:6]}",
            "KUBEVIZ_WORKQUEUE_LEASE": "10",
            "KUBEVIZ_REAP_INTERVAL": "3",
            "KUBEVIZ_LOG_LEVEL": "WARNING",
        }
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env["KUBEVIZ_API_URL"] = url
    kubeviz_server = LiveServer(url=url, env=env, workdir=workdir)
    s = Stack(kubeviz_server, env, workdir)
    s.start("daphne", "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "kubeviz.asgi:application")
    _wait_http(url + "/api/clusters")
    for flavour in FLAVOURS:
        s.clusters[flavour] = _make_cluster(kubeviz_server, workdir, flavour)
    # Clusters launched from scenarios (named s-…) are served too.
    only = [arg for c in s.clusters.values() for arg in ("--cluster", c.name)] + ["--cluster", "s-*"]
    s.start(
        "worker",
        "-m", "celery", "-A", "kubeviz", "worker", "--pool=threads", "--concurrency=8", "--without-gossip",
        "--without-mingle", "--loglevel=WARNING", "-n", f"machines-{uuid.uuid4().hex[:6]}@%h",
    )  # fmt: skip
    s.start(
        "beat", "-m", "celery", "-A", "kubeviz", "beat", "--loglevel=WARNING", f"--schedule={workdir}/beat"
    )
    s.start("controlplane", "-m", "kubeviz.controlplane", "--api", kubeviz_server.url, *only)
    s.start("machines", "-m", "kubeviz.machines", "--api", kubeviz_server.url, *only)
    try:
        yield s
    finally:
        for role, proc in s.procs.items():
            if role != "daphne":
                proc.terminate()
        for role, proc in s.procs.items():
            if role != "daphne":
                _reap(proc)
        for c in s.clusters.values():
            c.client.close()
            with contextlib.suppress(httpx.HTTPError):
                httpx.delete(f"{kubeviz_server.url}/api/clusters/{c.name}", timeout=60)
        s.procs["daphne"].terminate()
        _reap(s.procs["daphne"])


def _reap(proc: subprocess.Popen) -> None:
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait(
    predicate: Any, *, timeout: float, what: str, stack: Stack | None = None, interval: float = 0.25
) -> Any:
    """Poll until ``predicate`` returns something truthy; on timeout, fail with the processes' logs."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except (httpx.HTTPError, AssertionError) as exc:
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(interval)
    logs = stack.logs() if stack else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})\n{logs}")


# --- the browser tests: Debian's Chromium through Playwright -------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright import sync_api as pw

    from tests.browser import ARGS, CHROMIUM

    with pw.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context per test; any error the page raises fails the test."""
    context = browser.new_context(viewport={"width": 1500, "height": 950})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    context.close()
    assert not errors, f"the page raised: {errors}"


def scene(pg: Any) -> dict[str, Any]:
    """What the canvas has drawn, as data (``window.kubeviz.scene()``)."""
    return pg.evaluate("window.kubeviz.scene()")


def open_cluster(pg: Any, c: Cluster, hash_: str = "") -> None:
    pg.goto(f"{c.base}/clusters/{c.name}/{hash_}")
    pg.wait_for_function("window.kubeviz && window.kubeviz.scene().machines.length === 3", timeout=60_000)
    # The page fits the cluster to the window a frame after its first layout: let that happen
    # before a test reads positions on the screen.
    pg.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def until(pg: Any, what: str, fn: Any, timeout: float = 90) -> Any:
    return wait(lambda: fn(scene(pg)), timeout=timeout, what=what)
