"""The packet trace's view of the cluster: which pod an address belongs to."""

from __future__ import annotations

from kubeviz.cluster.network import ClusterView


def pod(name: str, ip: str, phase: str, host_network: bool = False) -> dict:
    return {
        "metadata": {"namespace": "default", "name": name},
        "spec": {"nodeName": "worker-1", "hostNetwork": host_network},
        "status": {"phase": phase, "podIP": ip},
    }


def view(*pods: dict) -> ClusterView:
    return ClusterView(name="c", pods=list(pods), services=[], slices=[], nodes=[])


def test_a_finished_pod_does_not_hide_the_live_pod_that_reuses_its_address() -> None:
    done = pod("job-abc", "10.244.1.5", "Succeeded")
    live = pod("shop-xyz", "10.244.1.5", "Running")
    assert view(done, live).pod_by_ip("10.244.1.5") is live
    assert view(live, done).pod_by_ip("10.244.1.5") is live


def test_a_finished_pod_still_answers_when_nothing_else_holds_the_address() -> None:
    done = pod("job-abc", "10.244.1.5", "Failed")
    assert view(done).pod_by_ip("10.244.1.5") is done
    assert view(done).pod_by_ip("10.244.1.6") is None


def test_host_network_pods_own_no_pod_address() -> None:
    assert (
        view(pod("kube-proxy-1", "192.168.0.11", "Running", host_network=True)).pod_by_ip("192.168.0.11")
        is None
    )
