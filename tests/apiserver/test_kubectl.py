"""Real kubectl v1.36 and helm 4 against a live kubeviz: our conformance suite."""

from __future__ import annotations

import json
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from tests import tools
from tests.conftest import LiveCluster

pytestmark = [pytest.mark.kubectl, pytest.mark.live]


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    return tools.ensure()


class Kubectl:
    def __init__(self, binary: Path, kubeconfig: Path) -> None:
        self.binary, self.kubeconfig = binary, kubeconfig

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.binary), "--kubeconfig", str(self.kubeconfig), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
            )
        return proc

    def json(self, *args: str) -> dict:
        return json.loads(self.run(*args, "-o", "json").stdout)


@pytest.fixture
def kubectl(binaries: dict[str, Path], cluster: LiveCluster) -> Kubectl:
    return Kubectl(binaries["kubectl"], cluster.kubeconfig)


DEPLOYMENT = textwrap.dedent(
    """
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: web
      labels: {app: web}
    spec:
      replicas: 2
      selector:
        matchLabels: {app: web}
      template:
        metadata:
          labels: {app: web}
        spec:
          containers:
          - name: nginx
            image: nginx:1.27
            ports:
            - containerPort: 80
          - name: sidecar
            image: busybox:1.36
            command: ["sleep", "3600"]
    """
)


def test_version_and_api_resources(kubectl: Kubectl) -> None:
    out = kubectl.json("version")
    assert out["serverVersion"]["gitVersion"] == "v1.36.0"
    res = kubectl.run("api-resources").stdout
    for line in ("deployments", "deploy", "apps/v1", "leases", "endpointslices", "cronjobs"):
        assert line in res
    names = kubectl.run("api-resources", "--categories=all", "-o", "name").stdout.split()
    assert "pods" in names and "deployments.apps" in names


def test_namespace_apply_and_apply_again_patches(kubectl: Kubectl) -> None:
    kubectl.run("create", "ns", "shop")
    assert kubectl.json("get", "ns", "shop")["status"]["phase"] == "Active"
    out = kubectl.run("apply", "-n", "shop", "-f", "-", stdin=DEPLOYMENT)
    assert "deployment.apps/web created" in out.stdout
    first = kubectl.json("get", "deploy", "web", "-n", "shop")
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3").replace("nginx:1.27", "nginx:1.28")
    out = kubectl.run("apply", "-n", "shop", "-f", "-", stdin=changed)
    assert "deployment.apps/web configured" in out.stdout
    second = kubectl.json("get", "deploy", "web", "-n", "shop")
    assert second["metadata"]["uid"] == first["metadata"]["uid"], "apply must patch, not replace"
    assert second["spec"]["replicas"] == 3
    images = [c["image"] for c in second["spec"]["template"]["spec"]["containers"]]
    assert images == ["nginx:1.28", "busybox:1.36"]
    assert second["metadata"]["generation"] == 2
    assert "kubectl.kubernetes.io/last-applied-configuration" in second["metadata"]["annotations"]
    out = kubectl.run("apply", "-n", "shop", "-f", "-", stdin=changed)
    assert "deployment.apps/web unchanged" in out.stdout


def test_server_side_apply(kubectl: Kubectl) -> None:
    kubectl.run("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT)
    d = kubectl.json("get", "deploy", "web", "--show-managed-fields")
    managers = {m["manager"]: m["operation"] for m in d["metadata"]["managedFields"]}
    assert managers.get("kubectl") == "Apply"
    kubectl.run("apply", "--server-side", "-f", "-", stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 4"))
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 4
    kubectl.run("scale", "deploy", "web", "--replicas=1")
    conflict = kubectl.run(
        "apply",
        "--server-side",
        "-f",
        "-",
        stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 6"),
        check=False,
    )
    assert conflict.returncode != 0 and "conflict" in conflict.stderr.lower()
    kubectl.run(
        "apply",
        "--server-side",
        "--force-conflicts",
        "-f",
        "-",
        stdin=DEPLOYMENT.replace("replicas: 2", "replicas: 6"),
    )
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 6


def test_get_describe_label_annotate_patch_scale_delete(kubectl: Kubectl) -> None:
    kubectl.run("apply", "-f", "-", stdin=DEPLOYMENT)
    table = kubectl.run("get", "deploy").stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:2] == ["web", "0/2"]
    kubectl.run("label", "deploy", "web", "tier=frontend")
    kubectl.run("annotate", "deploy", "web", "owner=team-a")
    d = kubectl.json("get", "deploy", "web")
    assert d["metadata"]["labels"]["tier"] == "frontend" and d["metadata"]["annotations"]["owner"] == "team-a"
    assert (
        kubectl.run("get", "deploy", "-l", "tier=frontend", "-o", "name").stdout.strip()
        == "deployment.apps/web"
    )
    kubectl.run("label", "deploy", "web", "tier-")
    assert "tier" not in kubectl.json("get", "deploy", "web")["metadata"]["labels"]
    kubectl.run("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"minReadySeconds":5}}')
    kubectl.run(
        "patch",
        "deploy",
        "web",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]',
    )
    kubectl.run(
        "patch",
        "deploy",
        "web",
        "--type=strategic",
        "-p",
        '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.29"}]}}}}',
    )
    d = kubectl.json("get", "deploy", "web")
    assert d["spec"]["minReadySeconds"] == 5 and d["spec"]["revisionHistoryLimit"] == 3
    assert [c["image"] for c in d["spec"]["template"]["spec"]["containers"]] == ["nginx:1.29", "busybox:1.36"]
    kubectl.run("scale", "deploy", "web", "--replicas=5")
    assert kubectl.json("get", "deploy", "web")["spec"]["replicas"] == 5
    described = kubectl.run("describe", "deploy", "web").stdout
    assert "Name:" in described and "web" in described and "nginx:1.29" in described
    kubectl.run("create", "configmap", "settings", "--from-literal=a=1")
    kubectl.run("delete", "configmap", "settings", "--dry-run=server")
    assert kubectl.json("get", "configmap", "settings")["data"] == {"a": "1"}, (
        "a server dry run deletes nothing"
    )
    everything = kubectl.run("get", "all").stdout
    assert "deployment.apps/web" in everything and "service/kubernetes" in everything
    out = kubectl.run("delete", "deploy", "web", timeout=60)
    assert 'deployment.apps "web" deleted' in out.stdout
    assert kubectl.run("get", "deploy", "web", check=False).returncode != 0
    kubectl.run("delete", "configmap", "settings")


def test_get_watch_sees_an_event(kubectl: Kubectl) -> None:
    proc = subprocess.Popen(
        [
            str(kubectl.binary),
            "--kubeconfig",
            str(kubectl.kubeconfig),
            "get",
            "configmaps",
            "-w",
            "-o",
            "name",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(2)
        kubectl.run("create", "configmap", "watched", "--from-literal=x=1")
        deadline = time.monotonic() + 20
        seen = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            seen += line
            if "configmap/watched" in line:
                break
        assert "configmap/watched" in seen, seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_errors_read_like_kubernetes(kubectl: Kubectl) -> None:
    out = kubectl.run("get", "deploy", "missing", check=False)
    assert out.returncode != 0 and 'deployments.apps "missing" not found' in out.stderr
    bad = DEPLOYMENT.replace("name: web\n  labels", "name: Web_Bad\n  labels")
    out = kubectl.run("apply", "-f", "-", stdin=bad, check=False)
    assert out.returncode != 0 and "Invalid" in out.stderr
    unknown = DEPLOYMENT.replace("replicas: 2", "replicas: 2\n  bogusField: 1")
    out = kubectl.run("apply", "-f", "-", stdin=unknown, check=False)
    assert out.returncode != 0 and "bogusField" in out.stderr


CHART = {
    "Chart.yaml": "apiVersion: v2\nname: hello\nversion: 0.1.0\nappVersion: '1.0'\n",
    "values.yaml": "replicas: 2\nmessage: hi\n",
    "templates/configmap.yaml": textwrap.dedent(
        """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-config
        data:
          message: {{ .Values.message | quote }}
        """
    ),
    "templates/service.yaml": textwrap.dedent(
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: {{ .Release.Name }}-svc
        spec:
          selector: {app: hello}
          ports:
          - port: 80
            targetPort: 8080
        """
    ),
}


def test_helm_install_upgrade_uninstall(
    binaries: dict[str, Path], cluster: LiveCluster, tmp_path: Path, kubectl: Kubectl
) -> None:
    chart = tmp_path / "hello"
    for rel, text in CHART.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    env = {
        "HOME": str(tmp_path),
        "KUBECONFIG": str(cluster.kubeconfig),
        "PATH": "/usr/bin:/bin",
        "HELM_CACHE_HOME": str(tmp_path / "c"),
        "HELM_CONFIG_HOME": str(tmp_path / "cfg"),
        "HELM_DATA_HOME": str(tmp_path / "d"),
    }

    def helm(*args: str) -> str:
        proc = subprocess.run(
            [str(binaries["helm"]), *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert proc.returncode == 0, f"helm {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    helm("install", "demo", str(chart))
    assert kubectl.json("get", "cm", "demo-config")["data"]["message"] == "hi"
    assert json.loads(helm("list", "-o", "json"))[0]["status"] == "deployed"
    helm("upgrade", "demo", str(chart), "--set", "message=bye")
    assert kubectl.json("get", "cm", "demo-config")["data"]["message"] == "bye"
    helm("uninstall", "demo")
    assert kubectl.run("get", "cm", "demo-config", check=False).returncode != 0
