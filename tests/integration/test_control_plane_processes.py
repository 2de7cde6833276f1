"""The control plane as ``make run`` runs it: real processes, real Celery, real kubectl and helm.

Two control-plane processes (as on two master machines) compete for the Leases; a real Celery
worker with a thread pool runs the reconciles and Celery beat reaps claims of dead workers.
The kubelet stand-in plays the nodes.  The processes use their own Redis prefix and Celery
queue, so they never touch the clusters other tests drive in-process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from kubeviz.client import DEPLOYMENTS, LEASES, PODS, REPLICASETS, Client
from tests.conftest import ROOT, LiveServer
from tests.standin import KubeletStandIn, wait_for
from tests.workloads import deployment

TOOLS = ROOT / "var" / "tools"


@dataclass
class Processes:
    server: LiveServer
    name: str
    kubeconfig: Path
    env: dict[str, str]
    workdir: Path
    client: Client
    kubelet: KubeletStandIn
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, role: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{role}.log", "ab")  # noqa: SIM115 - the child owns it
        proc = subprocess.Popen(
            [sys.executable, *args], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.procs[role] = proc
        return proc

    def start_worker(self, role: str = "worker") -> subprocess.Popen:
        return self.start(
            role,
            "-m", "celery", "-A", "kubeviz", "worker", "--pool=threads", "--concurrency=8",
            "--without-gossip", "--without-mingle", "--loglevel=WARNING", "-n", f"{role}-{uuid.uuid4().hex[:6]}@%h",
        )  # fmt: skip

    def start_controlplane(self, role: str) -> subprocess.Popen:
        return self.start(
            role,
            "-m", "kubeviz.controlplane", "--api", self.server.url, "--cluster", self.name,
            "--id", role.rsplit("-", 1)[1],
            "--lease-duration", "4", "--renew-deadline", "3", "--retry-period", "1",
        )  # fmt: skip

    def kill(self, role: str) -> None:
        proc = self.procs.pop(role)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def kubectl(
        self, *args: str, check: bool = True, timeout: float = 420
    ) -> subprocess.CompletedProcess[str]:
        return self._tool("kubectl", *args, check=check, timeout=timeout)

    def helm(self, *args: str, check: bool = True, timeout: float = 420) -> subprocess.CompletedProcess[str]:
        return self._tool("helm", *args, check=check, timeout=timeout)

    def _tool(self, tool: str, *args: str, check: bool, timeout: float) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "HOME": str(self.workdir), "KUBECONFIG": str(self.kubeconfig)}
        proc = subprocess.run(
            [str(TOOLS / tool), *args], capture_output=True, text=True, timeout=timeout, env=env
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{tool} {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}\n{self.logs()}"
            )
        return proc

    def logs(self) -> str:
        out = []
        for path in sorted(self.workdir.glob("*.log")):
            text = path.read_text(errors="replace")[-3000:]
            out.append(f"--- {path.name} ---\n{text}")
        out.append("--- pods and ReplicaSets now (the API's view, then the kubelet stand-in's) ---")
        try:
            for rs in self.client.list(REPLICASETS, namespace="default").items:
                out.append(
                    f"rs {rs['metadata']['name']}: spec {rs['spec'].get('replicas')} status {rs.get('status')}"
                )
            for pod in self.client.list(PODS, namespace="default").items:
                meta, status = pod["metadata"], pod.get("status") or {}
                cached = self.kubelet.pods.get(f"default/{meta['name']}")
                seen = (
                    (cached or {}).get("spec", {}).get("nodeName")
                    if cached
                    else "NOT IN THE STAND-IN'S CACHE"
                )
                ready = [c["status"] for c in status.get("conditions") or [] if c["type"] == "Ready"]
                out.append(
                    f"pod {meta['name']} rv {meta.get('resourceVersion')} node {pod['spec'].get('nodeName')}"
                    f" phase {status.get('phase')} ready {ready} deleting {bool(meta.get('deletionTimestamp'))}"
                    f" stand-in sees node {seen} rv {(cached or {}).get('metadata', {}).get('resourceVersion')}"
                )
        except Exception as exc:  # the diagnosis must not hide the failure it explains
            out.append(f"(could not list: {exc!r})")
        # The apiserver is shared with other modules: show what it said about watches.
        server_log = self.server.workdir / "daphne.log"
        if server_log.exists():
            lines = server_log.read_text(errors="replace").splitlines()
            starts = [i for i, line in enumerate(lines) if "watch feed" in line][-5:]
            watch_lines = [line for i in starts for line in lines[i : i + 15]]
            out.append("--- apiserver (watch feeds, then the last lines) ---")
            out.extend([*watch_lines, *lines[-20:]])
        return "\n".join(out)


@pytest.fixture(scope="module")
def processes(kubeviz_server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processes]:
    workdir = tmp_path_factory.mktemp("controlplane")
    name = "e2e-" + uuid.uuid4().hex[:8]
    resp = httpx.post(
        f"{kubeviz_server.url}/api/clusters",
        json={"name": name, "masters": 3, "workers": 2, "addons": False},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    # The kubelet stand-in plays the nodes here: the machines' own kubelets are switched off.
    machines = httpx.get(f"{kubeviz_server.url}/api/clusters/{name}/machines", timeout=10).json()["items"]
    for machine in machines:
        off = httpx.patch(
            f"{kubeviz_server.url}/api/clusters/{name}/machines/{machine['name']}/components/kubelet",
            json={"running": False},
        )
        assert off.status_code == 200, off.text
    kubeconfig = workdir / "kubeconfig"
    kubeconfig.write_text(httpx.get(f"{kubeviz_server.url}/api/clusters/{name}/kubeconfig", timeout=10).text)
    server = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]["server"]
    env = {
        **kubeviz_server.env,
        "KUBEVIZ_REDIS_PREFIX": kubeviz_server.env["KUBEVIZ_REDIS_PREFIX"] + "-e2e",
        "KUBEVIZ_CELERY_QUEUE": f"e2e-{name}",
        "KUBEVIZ_API_URL": kubeviz_server.url,
        "KUBEVIZ_WORKQUEUE_LEASE": "6",
        "KUBEVIZ_REAP_INTERVAL": "2",
        "KUBEVIZ_LOG_LEVEL": "WARNING",
    }
    kubelet = KubeletStandIn(server, masters=3, workers=2).start()
    p = Processes(
        kubeviz_server,
        name,
        kubeconfig,
        env,
        workdir,
        Client(server, component="kubectl", name="e2e"),
        kubelet,
    )
    p.start_worker()
    p.start(
        "beat",
        "-m",
        "celery",
        "-A",
        "kubeviz",
        "beat",
        "--loglevel=WARNING",
        f"--schedule={workdir}/beat-schedule",
    )
    p.start_controlplane("controlplane-a")
    p.start_controlplane("controlplane-b")
    try:
        yield p
    finally:
        for proc in p.procs.values():
            proc.terminate()
        for proc in p.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        kubelet.stop()
        p.client.close()
        httpx.delete(f"{kubeviz_server.url}/api/clusters/{name}", timeout=30)


def holder(p: Processes, lease: str) -> str:
    try:
        return p.client.get(LEASES, lease, namespace="kube-system")["spec"].get("holderIdentity") or ""
    except Exception:
        return ""


def test_one_instance_leads_each_component(processes: Processes) -> None:
    for lease in ("kube-controller-manager", "kube-scheduler"):
        who = wait_for(lambda lease=lease: holder(processes, lease), timeout=30, what=f"{lease} leader")
        assert who.split("_")[0] in {"master-1", "master-2", "master-3"}


def test_kubectl_rollout_through_celery(processes: Processes) -> None:
    manifest = yaml.safe_dump(deployment("web", 3))
    path = processes.workdir / "web.yaml"
    path.write_text(manifest)
    processes.kubectl("apply", "-f", str(path))
    processes.kubectl("rollout", "status", "deployment/web", "--timeout=300s")
    pods = processes.client.list(PODS, namespace="default", label_selector="app=web").items
    assert len([p for p in pods if not p["metadata"].get("deletionTimestamp")]) == 3


def test_a_sigkilled_worker_mid_rollout_still_converges_to_exactly_50(processes: Processes) -> None:
    processes.client.create(DEPLOYMENTS, deployment("big", 50))
    processes.kubectl("rollout", "status", "deployment/big", "--timeout=300s")
    processes.kubectl("set", "image", "deployment/big", "web=nginx:1.28")

    # Kill the worker while the new ReplicaSet is part-way up, then start a fresh one.
    def midway():
        rss = processes.client.list(REPLICASETS, namespace="default", label_selector="app=big").items
        return any(rs["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
                   and 0 < rs.get("status", {}).get("replicas", 0) < 50 for rs in rss)  # fmt: skip

    wait_for(midway, timeout=120, interval=0.05, what="the rollout to be under way")
    processes.kill("worker")
    processes.start_worker("worker-2")
    processes.kubectl("rollout", "status", "deployment/big", "--timeout=300s")

    def settled():
        pods = processes.client.list(PODS, namespace="default", label_selector="app=big").items
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        return len(live) == 50 and live

    live = wait_for(settled, timeout=120, what="exactly 50 pods")
    assert {p["spec"]["containers"][0]["image"] for p in live} == {"nginx:1.28"}
    assert len({p["metadata"]["name"] for p in live}) == 50


def test_the_lease_moves_when_the_leader_dies(processes: Processes) -> None:
    who = wait_for(lambda: holder(processes, "kube-controller-manager"), timeout=30, what="a leader")
    transitions = processes.client.get(LEASES, "kube-controller-manager", namespace="kube-system")["spec"][
        "leaseTransitions"
    ]
    leader_role = f"controlplane-{who.rsplit('_', 1)[1]}"
    survivor = "b" if leader_role == "controlplane-a" else "a"
    processes.kill(leader_role)  # SIGKILL: no release, the Lease must expire

    new = wait_for(
        lambda: (h := holder(processes, "kube-controller-manager")).endswith(f"_{survivor}") and h,
        timeout=60,
        what="the surviving process to take the Lease",
    )
    assert new != who
    lease = processes.client.get(LEASES, "kube-controller-manager", namespace="kube-system")
    assert lease["spec"]["leaseTransitions"] == transitions + 1
    # The control plane still works under the new leader.
    processes.kubectl("scale", "deployment/web", "--replicas=4")
    processes.kubectl("rollout", "status", "deployment/web", "--timeout=300s")
    processes.start_controlplane(leader_role)


def test_helm_install_wait_and_uninstall(processes: Processes) -> None:
    chart = processes.workdir / "chart"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    (chart / "templates" / "all.yaml").write_text(
        yaml.safe_dump_all(
            [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "demo-config"},
                    "data": {"greeting": "hi"},
                },
                {**deployment("demo", 2), "metadata": {"name": "demo"}},
                {
                    "apiVersion": "v1",
                    "kind": "Service",
                    "metadata": {"name": "demo"},
                    "spec": {"selector": {"app": "demo"}, "ports": [{"port": 80, "targetPort": 80}]},
                },
            ]
        )
    )
    processes.helm("install", "demo", str(chart), "--wait", "--timeout", "300s")
    assert processes.client.get(DEPLOYMENTS, "demo", namespace="default")["status"]["availableReplicas"] == 2
    processes.helm("uninstall", "demo", "--wait", "--timeout", "300s")

    def gone():
        pods = processes.client.list(PODS, namespace="default", label_selector="app=demo").items
        return (
            not pods
            and not processes.client.list(REPLICASETS, namespace="default", label_selector="app=demo").items
        )

    wait_for(gone, timeout=120, what="helm uninstall to clean up")
