"""A stand-in for kubelet, for control-plane tests until real kubelets run the nodes.

It does, through the API only, the part of a kubelet the control plane can see:

* registers Nodes (``master-1`` with the control-plane taint, ``worker-N``), Ready, with
  4 CPU, 16Gi and 110 pods allocatable, and renews their Leases in ``kube-node-lease``;
* watches pods bound to its nodes and reports them Running and Ready with a pod IP; a
  container whose command is ``sleep N`` (N at most 30) or ``true`` succeeds after N seconds,
  one running ``false`` or ``exit 1`` fails;
* finishes graceful deletions at once (``gracePeriodSeconds=0``), as a kubelet does once the
  containers have stopped.

Nodes can be stopped (their Lease is no longer renewed) and added while it runs.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from kubeviz.client import LEASES, NODES, PODS, APIStatusError, Client, ClientError, Informer, PatchType
from kubeviz.kubelet.runtime.behaviour import behaviour

Obj = dict[str, Any]
log = logging.getLogger(__name__)
#: Wait before a failed pod sync is tried again.
RETRY_SECONDS = 0.5


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def node_object(
    name: str, *, master: bool = False, cpu: str = "4", memory: str = "16Gi", pods: str = "110"
) -> Obj:
    labels = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}
    spec: Obj = {}
    if master:
        labels["node-role.kubernetes.io/control-plane"] = ""
        spec["taints"] = [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]
    capacity = {"cpu": cpu, "memory": memory, "pods": pods, "ephemeral-storage": "100Gi"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True",
                    "reason": "KubeletReady",
                    "message": "kubelet is posting ready status",
                    "lastHeartbeatTime": _now(),
                    "lastTransitionTime": _now(),
                }
            ],
            "nodeInfo": {"kubeletVersion": "v1.36.0", "containerRuntimeVersion": "containerd://2.1.0"},
        },
    }


def planned_exit(pod: Obj) -> tuple[float, int] | None:
    """Return (seconds, exit code) for a first container that ends on its own within 30 s, else None.

    The container's behaviour comes from the runtime's own rules (``kubelet.runtime.behaviour``).
    """
    containers = (pod.get("spec") or {}).get("containers") or [{}]
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    planned = behaviour(containers[0], annotations=annotations)
    if planned.runs_for is None or planned.runs_for > 30:
        return None
    return max(planned.runs_for, 0.3), planned.exit_code


class KubeletStandIn:
    def __init__(self, server: str, *, masters: int = 1, workers: int = 2, lease_period: float = 2.0) -> None:
        self.client = Client(server, component="kubelet", name="standin")
        self.nodes: dict[str, bool] = {}  # name -> heartbeating
        self.lease_period = lease_period
        self._stop = threading.Event()
        self._work: queue.Queue[str] = queue.Queue()
        self._ips = itertools.count(2)
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        for i in range(1, masters + 1):
            self.add_node(f"master-{i}", master=True)
        for i in range(1, workers + 1):
            self.add_node(f"worker-{i}")
        self.pods = Informer(
            self.client, PODS, on_add=self._changed, on_update=lambda _o, n: self._changed(n)
        )

    # --- nodes ------------------------------------------------------------------------------

    def add_node(self, name: str, *, master: bool = False, **resources: str) -> None:
        try:
            self.client.create(NODES, node_object(name, master=master, **resources))
        except APIStatusError as exc:
            if not exc.is_already_exists():
                raise
        self.nodes[name] = True
        self._renew(name)

    def stop_node(self, name: str) -> None:
        """Stop heartbeating for a node, as when its machine loses power."""
        self.nodes[name] = False

    def _renew(self, name: str) -> None:
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": _micro()},
        }
        try:
            self.client.patch(LEASES, name, {"spec": body["spec"]}, namespace="kube-node-lease")
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise
            self.client.create(LEASES, body, namespace="kube-node-lease")

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.lease_period):
            for name, alive in list(self.nodes.items()):
                if alive:
                    with contextlib.suppress(Exception):  # a missed beat is what a real kubelet risks too
                        self._renew(name)

    # --- pods -------------------------------------------------------------------------------

    def _changed(self, pod: Obj) -> None:
        node = (pod.get("spec") or {}).get("nodeName")
        if node and self.nodes.get(node):
            self._work.put(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")

    def _worker(self) -> None:
        while not self._stop.is_set():
            try:
                key = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                self._sync(key)
            except APIStatusError as exc:
                if exc.code != 404:  # a pod that is gone needs nothing more
                    self._retry(key, exc)
            except ClientError as exc:
                self._retry(key, exc)

    def _retry(self, key: str, exc: ClientError) -> None:
        # As a kubelet's pod worker does: a failed sync is tried again, not forgotten.
        log.warning("kubelet stand-in: syncing %s failed (%s); retrying", key, exc)
        timer = threading.Timer(RETRY_SECONDS, self._work.put, args=(key,))
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _sync(self, key: str) -> None:
        ns, name = key.split("/", 1)
        pod = self.pods.get(key)
        if pod is None:
            return
        meta, status = pod["metadata"], pod.get("status") or {}
        if meta.get("deletionTimestamp"):
            self.client.delete(PODS, name, namespace=ns, grace_period_seconds=0)
            return
        if status.get("phase", "Pending") != "Pending" or status.get("podIP"):
            return
        node = pod["spec"]["nodeName"]
        with self._lock:
            ip = str(ipaddress.ip_address("10.244.0.0") + next(self._ips))
        running = {
            "phase": "Running",
            "hostIP": "192.168.0.10",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": _now(),
            "conditions": [
                {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": _now()}
                for t in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": True,
                    "started": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": _now()}},
                }
                for c in pod["spec"].get("containers") or []
            ],
        }
        self.client.patch(
            PODS, name, {"status": running}, namespace=ns, subresource="status", patch_type=PatchType.MERGE
        )
        del node
        planned = planned_exit(pod)
        if planned is not None:
            seconds, code = planned
            timer = threading.Timer(seconds, self._finish, args=(ns, name, pod, code))
            timer.daemon = True
            self._timers.append(timer)
            timer.start()

    def _finish(self, ns: str, name: str, pod: Obj, code: int) -> None:
        if self._stop.is_set():
            return
        done = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "PodCompleted",
                    "lastProbeTime": None,
                    "lastTransitionTime": _now(),
                },
                {
                    "type": "ContainersReady",
                    "status": "False",
                    "reason": "PodCompleted",
                    "lastProbeTime": None,
                    "lastTransitionTime": _now(),
                },
                {
                    "type": "Initialized",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": _now(),
                },
                {
                    "type": "PodScheduled",
                    "status": "True",
                    "lastProbeTime": None,
                    "lastTransitionTime": _now(),
                },
            ],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {
                        "terminated": {
                            "exitCode": code,
                            "reason": "Completed" if code == 0 else "Error",
                            "startedAt": _now(),
                            "finishedAt": _now(),
                        }
                    },
                }
                for c in pod["spec"].get("containers") or []
            ],
        }
        with contextlib.suppress(APIStatusError):
            self.client.patch(
                PODS, name, {"status": done}, namespace=ns, subresource="status", patch_type=PatchType.MERGE
            )

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> KubeletStandIn:
        self.pods.start()
        self._threads = [
            threading.Thread(target=t, daemon=True) for t in (self._heartbeat, self._worker, self._worker)
        ]
        for thread in self._threads:
            thread.start()
        self.pods.wait_for_sync(10)
        return self

    def stop(self) -> None:
        self._stop.set()
        for timer in self._timers:
            timer.cancel()
        self.pods.stop()
        for thread in self._threads:
            thread.join(5)
        self.client.close()


def wait_for(predicate: Any, *, timeout: float = 30.0, interval: float = 0.1, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


def eventually(check: Any, *, timeout: float = 10.0, interval: float = 0.1) -> None:
    """Retry ``check`` (a function that asserts) until it passes, then return.

    For facts written just after the state a test waited for, such as the event a controller
    records once its write has landed.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(interval)
