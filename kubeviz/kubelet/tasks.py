"""Celery's side of the kubelet: the pod workers' queue and the node heartbeat.

* Pod workers: every kubelet's informer (in ``kubeviz.machines``) adds
  ``<cluster>|<node>|<namespace>/<name>`` to the ``kubelet`` work queue; ``reconcile`` runs
  one ``podworker.sync`` for it on any worker, under the work queue's one-at-a-time contract.
* The heartbeat (``node.NodeLoop``) runs in the machines process, beside each kubelet's
  informers, so a backlog of reconciles here never delays a Lease renewal.
"""

from __future__ import annotations

import logging
import time

from kubeviz.client import PODS, clusterinfo
from kubeviz.client.events import EventRecorder
from kubeviz.client.sharedcache import SharedCache
from kubeviz.client.workqueue import WorkQueue, register
from kubeviz.cluster.models import Machine, MachineComponent
from kubeviz.kubelet import podworker
from kubeviz.kubelet.cni.plugin import CNI
from kubeviz.kubelet.models import NodeAgent
from kubeviz.kubelet.node import COMPONENT, cache_component, kubelet_client
from kubeviz.kubelet.runtime.service import Runtime

log = logging.getLogger(__name__)

QUEUE = "kubelet"


def queue() -> WorkQueue:
    return WorkQueue(QUEUE)


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
