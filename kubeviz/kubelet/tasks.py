"""Celery's side of the kubelet: the pod workers' queue and the node heartbeat.

* Pod workers: every kubelet's informer (in ``kubeviz.machines``) adds
  ``<cluster>|<node>|<namespace>/<name>`` to the ``kubelet`` work queue; ``reconcile`` runs
  one ``podworker.sync`` for it on any worker, under the work queue's one-at-a-time contract.
* Heartbeat: Celery beat runs ``heartbeat`` every second.  It finds the machines whose kubelet
  runs (machine powered and the kubelet switched on) and runs each node's loop when its Lease
  renewal is due (10 s at speed 1), several nodes at once.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor

from django.db import close_old_connections

from kubeviz.celery import app
from kubeviz.client import PODS, clusterinfo
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.events import EventRecorder
from kubeviz.client.sharedcache import SharedCache, default_redis
from kubeviz.client.workqueue import WorkQueue, register
from kubeviz.cluster.models import Machine, MachineComponent
from kubeviz.kubelet import podworker
from kubeviz.kubelet.cni.plugin import CNI
from kubeviz.kubelet.models import NodeAgent
from kubeviz.kubelet.node import (
    COMPONENT,
    NODE_LEASE_RENEW_SECONDS,
    MachineView,
    NodeLoop,
    cache_component,
    kubelet_client,
)
from kubeviz.kubelet.runtime.service import Runtime

log = logging.getLogger(__name__)

QUEUE = "kubelet"
HEARTBEAT_WORKERS = 8
#: The shortest Lease renewal period, whatever the speed (seconds).
MIN_RENEW_SECONDS = 1.0


def queue() -> WorkQueue:
    return WorkQueue(QUEUE)


def running_machines(cluster: str) -> list[MachineView]:
    """Return the machines of a cluster whose kubelet runs: powered on, kubelet switched on."""
    off = set(
        MachineComponent.objects.filter(machine__cluster=cluster, name=COMPONENT, running=False).values_list(
            "machine_id", flat=True
        )
    )
    return [
        MachineView(m.name, m.role, m.ip, str(m.boot_id), m.cpu, m.memory, m.pods)
        for m in Machine.objects.filter(cluster=cluster, running=True)
        if m.pk not in off
    ]


def reconcile(qkey: str) -> None:
    """Run one pod worker sync for ``cluster|node|namespace/name``."""
    cluster, node, key = qkey.split("|", 2)
    info = clusterinfo.cluster_info(cluster)
    if info is None:
        return
    found = Machine.objects.filter(cluster=cluster, name=node, running=True).values("ip").first()
    kubelet_off = MachineComponent.objects.filter(
        machine__cluster=cluster, machine__name=node, name=COMPONENT, running=False
    ).exists()
    if found is None or kubelet_off:
        return  # a dead kubelet does nothing; when it starts again its informer lists every pod
    cache = SharedCache(cluster=cluster, component=cache_component(node))
    if not cache.lister(PODS).synced():
        queue().add_after(qkey, 1.0)
        return
    agent = NodeAgent.objects.filter(cluster=cluster, node=node).values("pod_cidr").first()
    cni = CNI(cluster=cluster, node=node, flavour=info.cni, pod_cidr=(agent or {}).get("pod_cidr", ""))
    client = kubelet_client(cluster, node)
    namespace, _, name = key.rpartition("/")
    ctx = podworker.PodContext(
        cluster=cluster,
        node=node,
        node_ip=found["ip"],
        info=info,
        client=client,
        pods=cache.lister(PODS),
        runtime=Runtime(cluster=cluster, node=node, clock=time.time, cni=cni),
        events=EventRecorder(client, component=COMPONENT, cluster=cluster, host=node),
        clock=time.time,
        requeue=lambda seconds: queue().add_after(qkey, seconds),
    )
    podworker.sync(ctx, namespace, name)


register(QUEUE, reconcile)


def renew_period(info: ClusterInfo) -> float:
    return max(NODE_LEASE_RENEW_SECONDS / info.speed, MIN_RENEW_SECONDS)


def _beat(cluster: str, machine: MachineView, info: ClusterInfo) -> None:
    try:
        NodeLoop(cluster=cluster, machine=machine, info=info).beat(renew_lease=True)
    except Exception:
        log.exception("%s/%s: kubelet heartbeat failed", cluster, machine.name)
    finally:
        close_old_connections()


@app.task(name="kubeviz.kubelet.tasks.heartbeat", ignore_result=True)
def heartbeat() -> int:
    """Run the node loop of every running kubelet whose renewal is due; return how many ran."""
    r = default_redis()
    due: list[tuple[str, MachineView, ClusterInfo]] = []
    for info in clusterinfo.published():
        period_ms = int(renew_period(info) * 1000)
        for m in running_machines(info.name):
            marker = f"{SharedCache(cluster=info.name, component=cache_component(m.name)).keys.base}:beat"
            if r.set(marker, 1, nx=True, px=max(period_ms - 100, 100)):
                due.append((info.name, m, info))
    if not due:
        return 0
    with ThreadPoolExecutor(max_workers=min(HEARTBEAT_WORKERS, len(due))) as pool:
        list(pool.map(lambda d: _beat(*d), due))
    return len(due)
