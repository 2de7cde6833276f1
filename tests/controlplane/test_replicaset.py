from __future__ import annotations

from kubeviz.client import PODS, REPLICASETS
from tests.standin import wait_for
from tests.workloads import replicaset


def test_replicaset_creates_schedules_and_reports_ready(plane):
    plane.client.create(REPLICASETS, replicaset("web", 3))

    def ready():
        rs = plane.client.get(REPLICASETS, "web", namespace="default")
        return rs.get("status", {}).get("readyReplicas") == 3 and rs

    rs = wait_for(ready, timeout=30, what="3 ready replicas")
    assert rs["status"]["replicas"] == 3
    assert rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
    pods = plane.client.list(PODS, namespace="default", label_selector="app=web").items
    assert len(pods) == 3
    assert all(p["spec"]["nodeName"].startswith("worker-") for p in pods)
    assert all(p["metadata"]["ownerReferences"][0]["uid"] == rs["metadata"]["uid"] for p in pods)
