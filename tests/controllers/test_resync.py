"""Beat's resync queues every primary object of each controller, once per resync period."""

from __future__ import annotations

import uuid
from typing import Any

from kubeviz.client import clusterinfo
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.client.rest import DEPLOYMENTS, JOBS
from kubeviz.client.sharedcache import CacheWriter
from kubeviz.client.workqueue import set_default_dispatcher
from kubeviz.controllers.base import COMPONENT
from kubeviz.controllers.tasks import resync


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def apply_async(self, args: list[str], countdown: float = 0.0, **options: Any) -> None:
        self.sent.append((args[0], args[1]))


def test_resync_queues_primary_objects_once_per_period() -> None:
    cluster = f"r-{uuid.uuid4().hex[:8]}"
    writer = CacheWriter(cluster=cluster, component=COMPONENT)
    writer.put(DEPLOYMENTS, {"metadata": {"name": "web", "namespace": "default", "uid": "d1"}})
    writer.put(JOBS, {"metadata": {"name": "batch", "namespace": "default", "uid": "j1"}})
    clusterinfo.publish(ClusterInfo(name=cluster))
    recorder = Recorder()
    set_default_dispatcher(recorder)
    try:
        resync()
        mine = {(q, k) for q, k in recorder.sent if k.startswith(cluster)}
        assert ("kube-controller-manager:deployment", f"{cluster}|default/web") in mine
        assert ("kube-controller-manager:job", f"{cluster}|default/batch") in mine
        recorder.sent.clear()
        resync()  # within the period: nothing again
        assert not [k for _, k in recorder.sent if k.startswith(cluster)]
    finally:
        set_default_dispatcher(None)
        clusterinfo.forget(cluster)
