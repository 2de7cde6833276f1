"""The control-plane process follows the explorer API: deleted clusters leave nothing in Redis."""

from __future__ import annotations

import uuid

from kubeviz.client import clusterinfo
from kubeviz.client.clusterinfo import ClusterInfo
from kubeviz.controlplane import ControlPlaneProcess, Timings


def test_a_cluster_deleted_while_no_process_ran_is_forgotten(kubeviz_server) -> None:
    gone = f"gone-{uuid.uuid4().hex[:8]}"
    clusterinfo.publish(ClusterInfo(name=gone))
    process = ControlPlaneProcess(base=kubeviz_server.url, timings=Timings(), only={gone})
    process.discover()
    assert clusterinfo.cluster_info(gone) is None
    assert process.clusters == {}


def test_a_listed_cluster_is_published_and_kept(kubeviz_server, cluster) -> None:
    process = ControlPlaneProcess(
        base=kubeviz_server.url, timings=Timings(), only={cluster.name}, components=frozenset()
    )
    process.discover()
    try:
        assert clusterinfo.cluster_info(cluster.name).masters == 1
        assert set(process.clusters) == {cluster.name}
    finally:
        for plane in process.clusters.values():
            plane.stop()
        clusterinfo.forget(cluster.name)
