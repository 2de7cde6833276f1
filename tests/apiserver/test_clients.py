"""The official Python client and lightkube against a live kubeviz."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes import watch as k8s_watch
from kubernetes.client.rest import ApiException

from tests.conftest import LiveCluster

pytestmark = pytest.mark.live


@pytest.fixture
def api(cluster: LiveCluster) -> k8s.ApiClient:
    return k8s_config.new_client_from_config(config_file=str(cluster.kubeconfig))


def test_create_list_patch_and_stale_replace(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    body = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="py", labels={"from": "python"}), data={"a": "1"})
    made = core.create_namespaced_config_map("default", body)
    assert made.metadata.uid and made.metadata.resource_version
    listed = core.list_namespaced_config_map("default", label_selector="from=python")
    assert [c.metadata.name for c in listed.items] == ["py"]
    patched = core.patch_namespaced_config_map("py", "default", {"data": {"b": "2"}})
    assert patched.data == {"a": "1", "b": "2"}
    stale = made
    stale.data = {"c": "3"}
    with pytest.raises(ApiException) as err:
        core.replace_namespaced_config_map("py", "default", stale)
    assert err.value.status == 409
    apps = k8s.AppsV1Api(api)
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "pyweb"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "pyweb"}},
            "template": {
                "metadata": {"labels": {"app": "pyweb"}},
                "spec": {"containers": [{"name": "c", "image": "nginx"}]},
            },
        },
    }
    d = apps.create_namespaced_deployment("default", dep)
    assert d.spec.strategy.rolling_update.max_surge == "25%"
    scale = apps.patch_namespaced_deployment_scale("pyweb", "default", {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3


def test_watch_stream_sees_added_modified_deleted_in_order(api: k8s.ApiClient) -> None:
    core = k8s.CoreV1Api(api)
    rv = core.list_namespaced_config_map("default").metadata.resource_version
    seen: list[tuple[str, str]] = []
    w = k8s_watch.Watch()

    def consume() -> None:
        for ev in w.stream(
            core.list_namespaced_config_map, "default", resource_version=rv, timeout_seconds=20
        ):
            seen.append((ev["type"], ev["object"].metadata.name))
            if ev["type"] == "DELETED":
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    time.sleep(0.5)
    core.create_namespaced_config_map("default", k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="w1")))
    core.patch_namespaced_config_map("w1", "default", {"data": {"x": "1"}})
    core.delete_namespaced_config_map("w1", "default")
    t.join(timeout=25)
    assert seen == [("ADDED", "w1"), ("MODIFIED", "w1"), ("DELETED", "w1")]


def test_lightkube_lists_and_watches(cluster: LiveCluster) -> None:
    from lightkube import Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import ConfigMap, Namespace

    lk = Client(KubeConfig.from_file(str(cluster.kubeconfig)))
    names = sorted(ns.metadata.name for ns in lk.list(Namespace))
    assert names == ["default", "kube-node-lease", "kube-public", "kube-system"]
    lk.create(ConfigMap(metadata=ObjectMeta(name="lk", namespace="default"), data={"k": "v"}))
    got = lk.get(ConfigMap, "lk", namespace="default")
    assert got.data == {"k": "v"}
    events = []
    for kind, obj in lk.watch(ConfigMap, namespace="default", resource_version="0"):
        events.append((kind, obj.metadata.name))
        if obj.metadata.name == "lk":
            break
    assert ("ADDED", "lk") in events
