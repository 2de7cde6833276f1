"""The kubelet's node loop: register the Node, renew its Lease, report its status, run static pods.

Mirrors ``pkg/kubelet/kubelet_node_status.go`` (``registerWithAPIServer``,
``tryUpdateNodeStatus``), ``pkg/kubelet/nodelease`` and the mirror-pod half of
``pkg/kubelet/pod``:

* On its machine's first heartbeat the kubelet POSTs its Node: labels, the control-plane taint
  on masters (unless the cluster makes masters schedulable), capacity and allocatable from the
  machine, addresses and nodeInfo (whose ``bootID`` is the machine's).
* Every ``NODE_LEASE_RENEW_SECONDS`` (10 s at speed 1, a quarter of the 40 s lease) it renews
  its Lease in ``kube-node-lease``; that is the heartbeat node lifecycle watches.
* It reads its Node and writes ``nodes/status`` when what it would report differs from what
  the API holds (its Ready condition, images, addresses) and at least every 5 minutes
  otherwise.  The node is not Ready until the network plugin is: until the CNI's daemon runs
  on it, Ready is False with the runtime's ``NetworkPluginNotReady`` message, as on a fresh
  kubeadm node.
* On a master it creates the mirror pods of its static pods (``kube-apiserver-master-1`` …)
  so the API shows what the kubelet runs from its manifests directory.
* When the machine booted since the kubelet last ran (its ``boot_id`` changed), the containers,
  sandboxes and IP allocations of the old boot are gone: the runtime starts empty.

Timings are divided by the cluster's speed.  Everything reaches the cluster through the
kubelet's own client (``kubelet/v1.36.0 … kubeviz/<node>``).
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubeviz.client import LEASES, NODES, PODS, APIStatusError
from kubeviz.client.clusterinfo import ClusterInfo, client_for
from kubeviz.client.rest import Client
from kubeviz.client.sharedcache import SharedCache
from kubeviz.cluster import addons
from kubeviz.cluster.models import Machine
from kubeviz.kubelet import switches
from kubeviz.kubelet.models import Container, IPAllocation, NodeAgent, Sandbox
from kubeviz.kubelet.runtime.service import RUNTIME_VERSION, Runtime

log = logging.getLogger(__name__)

Obj = dict[str, Any]
COMPONENT = "kubelet"
KUBELET_VERSION = "v1.36.0"
NODE_LEASE_SECONDS = 40
NODE_LEASE_RENEW_SECONDS = 10.0
NODE_STATUS_REPORT_SECONDS = 300.0
MAX_NODE_IMAGES = 50
CONTROL_PLANE_TAINT = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}
NETWORK_NOT_READY = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


@dataclass(frozen=True)
class MachineView:
    """What the kubelet knows of the machine it runs on."""

    name: str
    role: str
    ip: str
    boot_id: str
    cpu: str
    memory: str
    pods: str

    @property
    def master(self) -> bool:
        return self.role == "master"


def cache_component(node: str) -> str:
    """Name the kubelet's shared cache of one node."""
    return f"{COMPONENT}@{node}"


def kubelet_client(cluster: str, node: str) -> Client:
    return client_for(cluster, COMPONENT, node)


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def node_object(machine: MachineView, info: ClusterInfo) -> Obj:
    """Return the Node the kubelet registers."""
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": machine.name,
        "kubernetes.io/os": "linux",
    }
    spec: Obj = {}
    if machine.master:
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
        if not info.masters_schedulable:
            spec["taints"] = [dict(CONTROL_PLANE_TAINT)]
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": machine.name,
            "labels": labels,
            "annotations": {
                "kubeadm.alpha.kubernetes.io/cri-socket": "unix:///var/run/containerd/containerd.sock",
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
            },
        },
        "spec": spec,
    }


def capacity(machine: MachineView) -> Obj:
    return {
        "cpu": machine.cpu,
        "memory": machine.memory,
        "pods": machine.pods,
        "ephemeral-storage": "100Gi",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }


def network_ready(pods: list[Obj], cni: str) -> bool:
    """Tell whether the CNI's daemon runs on this node (its pod's containers are all running)."""
    daemon = addons.NETWORK_DAEMONS.get(cni, "")
    for pod in pods:
        if switches.component_of(pod) != daemon:
            continue
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        if statuses and all("running" in (s.get("state") or {}) for s in statuses):
            return True
    return False


def node_status(
    machine: MachineView, *, old: Obj | None, images: list[Obj], net_ready: bool, now: float
) -> Obj:
    """Return the status the kubelet reports; transition times stay while a condition holds."""
    previous = {c.get("type"): c for c in ((old or {}).get("status") or {}).get("conditions") or []}
    stamp = _stamp(now)

    def condition(kind: str, ok: bool, reason: str, message: str) -> Obj:
        status = "True" if ok else "False"
        prev = previous.get(kind)
        since = prev.get("lastTransitionTime") if prev and prev.get("status") == status else stamp
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": since,
        }

    ready = (
        condition("Ready", True, "KubeletReady", "kubelet is posting ready status")
        if net_ready
        else condition("Ready", False, "KubeletNotReady", NETWORK_NOT_READY)
    )
    size = capacity(machine)
    return {
        "capacity": size,
        "allocatable": size,
        "conditions": [
            condition(
                "MemoryPressure",
                False,
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            condition("DiskPressure", False, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition(
                "PIDPressure", False, "KubeletHasSufficientPID", "kubelet has sufficient PID available"
            ),
            ready,
        ],
        "addresses": [
            {"type": "InternalIP", "address": machine.ip},
            {"type": "Hostname", "address": machine.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": hashlib.md5(machine.name.encode()).hexdigest(),
            "systemUUID": hashlib.md5(f"uuid:{machine.name}".encode()).hexdigest(),
            "bootID": machine.boot_id,
            "kernelVersion": "6.1.0-28-amd64",
            "osImage": "Debian GNU/Linux 12 (bookworm)",
            "containerRuntimeVersion": RUNTIME_VERSION,
            "kubeletVersion": KUBELET_VERSION,
            "operatingSystem": "linux",
            "architecture": "amd64",
        },
        "images": images,
    }


def _digest(status: Obj) -> str:
    """Summarise what a status change is about (not heartbeat times)."""
    ready = [(c["type"], c["status"], c.get("reason")) for c in status.get("conditions") or []]
    images = [tuple(i.get("names") or ()) for i in status.get("images") or []]
    info = (status.get("nodeInfo") or {}).get("bootID")
    return hashlib.sha1(
        repr((ready, images, status.get("addresses"), info, status.get("capacity"))).encode()
    ).hexdigest()


class NodeLoop:
    """One heartbeat of one node's kubelet; ``beat`` is idempotent and cheap when nothing is due."""

    def __init__(
        self, *, cluster: str, machine: MachineView, info: ClusterInfo, clock: Any = time.time
    ) -> None:
        self.cluster = cluster
        self.machine = machine
        self.info = info
        self.clock = clock
        self.client = kubelet_client(cluster, machine.name)
        self.cache = SharedCache(cluster=cluster, component=cache_component(machine.name))

    def beat(self, *, renew_lease: bool) -> None:
        agent = self._agent()
        if not agent.registered:
            self.register(agent)
        if renew_lease:
            self.renew_lease()
        # Read the Node from the apiserver, as tryUpdateNodeStatus does: what node lifecycle
        # wrote (Ready Unknown while the Lease was stale) must be seen to be corrected.
        try:
            node = self.client.get(NODES, self.machine.name)
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise
            agent.registered = False  # deleted behind its back: register again next beat
            agent.save(update_fields=["registered"])
            return
        cidr = (node.get("spec") or {}).get("podCIDR") or ""
        if cidr != agent.pod_cidr:
            agent.pod_cidr = cidr
            agent.save(update_fields=["pod_cidr"])
        pods = self.cache.lister(PODS).list()
        self.report_status(agent, node, pods)
        if self.machine.master:
            self.ensure_mirror_pods(node, pods)

    def _agent(self) -> NodeAgent:
        agent, _ = NodeAgent.objects.get_or_create(cluster=self.cluster, node=self.machine.name)
        if agent.boot_id != self.machine.boot_id:
            self.forget_previous_boot()
            agent.boot_id = self.machine.boot_id
            agent.registered = False
            agent.status_digest = ""
            agent.save(update_fields=["boot_id", "registered", "status_digest"])
        return agent

    def forget_previous_boot(self) -> None:
        """Drop what the runtime held before the machine (re)booted: it died with the machine."""
        mine = {"cluster": self.cluster, "node": self.machine.name}
        Container.objects.filter(sandbox__cluster=self.cluster, sandbox__node=self.machine.name).delete()
        Sandbox.objects.filter(**mine).delete()
        IPAllocation.objects.filter(**mine).delete()

    def register(self, agent: NodeAgent) -> None:
        try:
            self.client.create(NODES, node_object(self.machine, self.info))
        except APIStatusError as exc:
            if not exc.is_already_exists():
                raise
        agent.registered = True
        agent.save(update_fields=["registered"])

    def renew_lease(self) -> None:
        now = self.clock()
        spec = {
            "holderIdentity": self.machine.name,
            "leaseDurationSeconds": NODE_LEASE_SECONDS,
            "renewTime": _micro(now),
        }
        try:
            self.client.patch(LEASES, self.machine.name, {"spec": spec}, namespace="kube-node-lease")
        except APIStatusError as exc:
            if not exc.is_not_found():
                raise
            body = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": self.machine.name, "namespace": "kube-node-lease"},
                "spec": spec,
            }
            try:
                self.client.create(LEASES, body, namespace="kube-node-lease")
            except APIStatusError as again:
                if not again.is_already_exists():
                    raise

    def report_status(self, agent: NodeAgent, node: Obj, pods: list[Obj]) -> None:
        now = self.clock()
        runtime = Runtime(cluster=self.cluster, node=self.machine.name, clock=self.clock)
        images = [
            {"names": [f"{i.name.rsplit(':', 1)[0]}@{i.digest}", i.name], "sizeBytes": i.size}
            for i in runtime.images()[:MAX_NODE_IMAGES]
        ]
        status = node_status(
            self.machine, old=node, images=images, net_ready=network_ready(pods, self.info.cni), now=now
        )
        wanted = _digest(status)
        held = _digest(node.get("status") or {})
        due = now - agent.status_reported_at >= NODE_STATUS_REPORT_SECONDS / self.info.speed
        if wanted == held and not due:
            return
        self.client.patch(NODES, self.machine.name, {"status": status}, subresource="status")
        agent.status_reported_at = now
        agent.status_digest = wanted
        agent.save(update_fields=["status_reported_at", "status_digest"])

    def ensure_mirror_pods(self, node: Obj, pods: list[Obj]) -> None:
        present = {p["metadata"]["name"] for p in pods if (p["metadata"].get("namespace") == "kube-system")}
        masters = [(m, ip) for m, ip in master_addresses(self.cluster)]
        for manifest in addons.static_pods(node=self.machine.name, node_ip=self.machine.ip, masters=masters):
            mirror = mirror_pod(manifest, node=node, now=self.clock())
            if mirror["metadata"]["name"] in present:
                continue
            try:
                self.client.create(PODS, mirror, namespace="kube-system")
            except APIStatusError as exc:
                if not exc.is_already_exists():
                    raise


def master_addresses(cluster: str) -> list[tuple[str, str]]:
    rows = Machine.objects.filter(cluster=cluster, role="master").order_by("index")
    return [(m.name, m.ip) for m in rows]


def mirror_pod(manifest: Obj, *, node: Obj, now: float) -> Obj:
    """Return the mirror pod of a static pod manifest, bound to and owned by its Node."""
    config_hash = hashlib.md5(repr(sorted(manifest.items())).encode()).hexdigest()
    meta = dict(manifest.get("metadata") or {})
    node_name = node["metadata"]["name"]
    meta["name"] = f"{meta['name']}-{node_name}"
    meta["namespace"] = "kube-system"
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        "kubernetes.io/config.hash": config_hash,
        "kubernetes.io/config.mirror": config_hash,
        "kubernetes.io/config.seen": _micro(now),
        "kubernetes.io/config.source": "file",
    }
    meta["ownerReferences"] = [
        {
            "apiVersion": "v1",
            "kind": "Node",
            "name": node_name,
            "uid": node["metadata"].get("uid", ""),
            "controller": True,
        }
    ]
    spec = dict(manifest.get("spec") or {})
    spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}
