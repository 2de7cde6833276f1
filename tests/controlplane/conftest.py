"""Fixtures that run the control plane inside the test process, against the live server.

``plane`` starts kube-controller-manager's and kube-scheduler's informers for one fresh
cluster (the same ``ControllerManager`` and ``SchedulerInformers`` the control-plane process
runs), reconciles on a thread pool instead of Celery (``ThreadDispatcher``: the same work-queue
contract, in Redis), and a kubelet stand-in for the nodes.  Tests drive it with real kubectl
or the client, and wait for the cluster to converge.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from django.conf import settings

import kubeviz.controllers.tasks  # noqa: F401 - registers the controllers' queues
import kubeviz.scheduler.tasks  # noqa: F401 - registers the scheduling queue
from kubeviz.client import Client, clusterinfo
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.workqueue import ThreadDispatcher, set_default_dispatcher
from kubeviz.controllers.manager import ControllerManager
from kubeviz.controllers.registry import CONTROLLERS
from kubeviz.scheduler.loop import SchedulerInformers
from tests.conftest import LiveCluster, LiveServer
from tests.standin import KubeletStandIn

TOOLS = Path(__file__).resolve().parents[2] / "var" / "tools"


@dataclass
class Plane:
    cluster: LiveCluster
    client: Client
    kubelet: KubeletStandIn

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(TOOLS / "kubectl"), "--kubeconfig", str(self.cluster.kubeconfig), *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc


@contextmanager
def running_plane(
    cluster: LiveCluster,
    kubeviz_server: LiveServer,
    *,
    lease_period: float = 2.0,
    masters: int = 1,
    workers: int = 2,
) -> Iterator[Plane]:
    """Run the control plane and the kubelet stand-in for one live cluster (``plane``'s body).

    ``lease_period`` is how often the stand-in renews node Leases; a sped-up cluster needs it
    shorter than its scaled node-monitor grace period.
    """
    settings.KUBEVIZ_API_URL = cluster.base
    # Share the live server's Redis namespace, so what the loops record (scheduling decisions)
    # is what the explorer API serves.
    test_prefix, settings.KUBEVIZ_REDIS_PREFIX = (
        settings.KUBEVIZ_REDIS_PREFIX,
        kubeviz_server.env["KUBEVIZ_REDIS_PREFIX"],
    )
    body = httpx.get(f"{cluster.base}/api/clusters/{cluster.name}", timeout=10).json()
    clusterinfo.publish(ClusterInfo.from_explorer(body))
    dispatcher = ThreadDispatcher(workers=6)
    set_default_dispatcher(dispatcher)
    kubelet = KubeletStandIn(
        cluster.server, lease_period=lease_period, masters=masters, workers=workers
    ).start()
    cm = ControllerManager(
        cluster=cluster.name,
        client=Client(cluster.server, component="kube-controller-manager", name="shared-informers"),
        controllers=CONTROLLERS.values(),
    )
    scheduler = SchedulerInformers(
        cluster=cluster.name,
        client=Client(cluster.server, component="kube-scheduler", name="shared-informers"),
    )
    cm.start()
    scheduler.start()
    assert cm.factory.wait_for_sync(20) and scheduler.factory.wait_for_sync(20)
    client = Client(cluster.server, component="kubectl", name="test")
    try:
        yield Plane(cluster=cluster, client=client, kubelet=kubelet)
    finally:
        cm.stop()
        scheduler.stop()
        kubelet.stop()
        dispatcher.close()
        set_default_dispatcher(None)
        clusterinfo.withdraw(cluster.name)
        client.close()
        settings.KUBEVIZ_REDIS_PREFIX = test_prefix


@pytest.fixture
def plane(cluster: LiveCluster, kubeviz_server: LiveServer) -> Iterator[Plane]:
    with running_plane(cluster, kubeviz_server) as running:
        yield running
