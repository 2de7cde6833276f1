"""The shared informer cache in Redis: objects, the uid and owner indexes, reset and sync marks."""

from __future__ import annotations

import uuid

from kubeviz.client.rest import CONFIGMAPS, NODES, PODS, REPLICASETS
from kubeviz.client.sharedcache import CacheWriter, Ref, SharedCache, resource_by_key, resource_key


def pod(name: str, *, ns: str = "default", labels: dict | None = None, owner: str | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns, "uid": f"uid-{ns}-{name}", "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": owner}
        ]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta}


def make() -> tuple[CacheWriter, SharedCache]:
    cluster = f"c-{uuid.uuid4().hex[:8]}"
    return CacheWriter(cluster=cluster, component="kube-controller-manager"), SharedCache(
        cluster=cluster, component="kube-controller-manager"
    )


def test_resource_keys_are_spelled_as_kubectl_does() -> None:
    assert resource_key(PODS) == "pods"
    assert resource_key(REPLICASETS) == "replicasets.apps"
    assert resource_by_key("replicasets.apps") is REPLICASETS


def test_get_and_list_by_namespace_and_selector() -> None:
    writer, cache = make()
    writer.put(PODS, pod("a", labels={"app": "web"}))
    writer.put(PODS, pod("b", labels={"app": "db"}))
    writer.put(PODS, pod("c", ns="other", labels={"app": "web"}))
    writer.put(NODES, {"metadata": {"name": "n1", "uid": "n1"}})
    pods = cache.lister(PODS)
    assert pods.get("default", "a")["metadata"]["name"] == "a"
    assert pods.get("default", "zzz") is None
    assert [p["metadata"]["name"] for p in pods.list("default")] == ["a", "b"]
    assert [p["metadata"]["name"] for p in pods.list(None, "app=web")] == ["a", "c"]
    assert [p["metadata"]["name"] for p in pods.list("default", {"matchLabels": {"app": "db"}})] == ["b"]
    assert cache.lister(NODES).get(None, "n1") is not None
    assert cache.lister(CONFIGMAPS).list() == []


def test_owner_index_follows_updates_and_deletes() -> None:
    writer, cache = make()
    first = pod("a", owner="rs-1")
    writer.put(PODS, first)
    assert cache.dependents("rs-1") == [Ref("pods", "default", "a")]
    moved = pod("a", owner="rs-2")
    writer.put(PODS, moved, first)
    assert cache.dependents("rs-1") == []
    assert cache.dependents("rs-2") == [Ref("pods", "default", "a")]
    assert cache.ref_of("uid-default-a") == Ref("pods", "default", "a")
    assert cache.fetch(Ref("pods", "default", "a"))["metadata"]["ownerReferences"][0]["uid"] == "rs-2"
    writer.remove(PODS, moved)
    assert cache.dependents("rs-2") == []
    assert cache.ref_of("uid-default-a") is None


def test_reset_forgets_a_resource_and_its_index_entries() -> None:
    writer, cache = make()
    writer.put(PODS, pod("a", owner="rs-1"))
    writer.put(CONFIGMAPS, {"metadata": {"name": "cm", "namespace": "default", "uid": "cm-1"}})
    writer.mark_synced(PODS, "42")
    assert cache.synced([PODS]) and not cache.synced([PODS, CONFIGMAPS])
    writer.reset(PODS)
    assert cache.lister(PODS).list() == []
    assert cache.dependents("rs-1") == [] and cache.ref_of("uid-default-a") is None
    assert not cache.synced([PODS])
    assert cache.ref_of("cm-1") is not None  # other resources are untouched
    cache.clear()
    assert cache.ref_of("cm-1") is None


def test_forgetting_a_cluster_deletes_its_state_and_nothing_else() -> None:
    from django.conf import settings

    from kubeviz.client import clusterinfo
    from kubeviz.client.clusterinfo import ClusterInfo

    writer, cache = make()
    other_writer, other = make()
    writer.put(PODS, pod("a", owner="rs-1"))
    other_writer.put(PODS, pod("b"))
    clusterinfo.publish(ClusterInfo(name=cache.cluster))
    r = cache.redis
    p = settings.KUBEVIZ_REDIS_PREFIX
    r.set(f"{p}:schedq:{cache.cluster}:active", 1)
    r.set(f"{p}:cidrs:{cache.cluster}", 1)
    assert clusterinfo.forget(cache.cluster) >= 5
    assert clusterinfo.cluster_info(cache.cluster) is None
    assert not list(r.scan_iter(match=f"{p}:*:{cache.cluster}*"))
    assert other.lister(PODS).get("default", "b") is not None
