from __future__ import annotations

from kubeviz.client import CONTROLLERREVISIONS, EVENTS, PODS, SERVICES, STATEFULSETS
from tests.standin import wait_for


def headless_service(name: str = "web") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"clusterIP": "None", "selector": {"app": name}, "ports": [{"name": "http", "port": 80}]},
    }


def statefulset(name: str = "web", *, replicas: int = 3, parallel: bool = False, **pod_spec: object) -> dict:
    labels = {"app": name}
    spec = {
        "serviceName": name,
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27"}], **pod_spec},
        },
    }
    if parallel:
        spec["podManagementPolicy"] = "Parallel"
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "default"},
        "spec": spec,
    }


def pods_by_name(plane, name: str = "web") -> dict[str, dict]:
    pods = plane.client.list(PODS, namespace="default", label_selector=f"app={name}").items
    return {p["metadata"]["name"]: p for p in pods if not p["metadata"].get("deletionTimestamp")}


def ready(plane, count: int, name: str = "web") -> dict:
    def check():
        sts = plane.client.get(STATEFULSETS, name, namespace="default")
        st = sts.get("status", {})
        done = (
            st.get("readyReplicas", 0) == count
            and st.get("replicas") == count
            and st.get("observedGeneration") == sts["metadata"]["generation"]
            and sorted(pods_by_name(plane, name)) == [f"{name}-{i}" for i in range(count)]
        )
        return done and sts

    return wait_for(check, timeout=30, what=f"{count} ready replicas of {name}")


def unschedulable(pod: dict) -> bool:
    """Tell whether the scheduler has tried the pod and parked it (so a node change retries it)."""
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable" for c in conditions)


def events_of(plane, reason: str, name: str = "web", *, count: int = 0) -> list[str]:
    """Return the StatefulSet's event messages of one reason, oldest first.

    A controller records an event after its write, so a test that has just seen the write
    waits here for ``count`` events before it compares.
    """
    if count:
        wait_for(lambda: len(_events_of(plane, reason, name)) >= count, what=f"{count} {reason} events")
    return _events_of(plane, reason, name)


def _events_of(plane, reason: str, name: str) -> list[str]:
    events = plane.client.list(EVENTS, namespace="default").items
    mine = [
        e
        for e in events
        if e["involvedObject"].get("name") == name and e["involvedObject"].get("kind") == "StatefulSet"
    ]
    mine.sort(key=lambda e: int(e["metadata"]["resourceVersion"]))
    return [e["message"] for e in mine if e["reason"] == reason]


def test_ordered_pods_with_identity_behind_a_headless_service(plane):
    plane.client.create(SERVICES, headless_service())
    plane.client.create(STATEFULSETS, statefulset())
    sts = ready(plane, 3)
    st = sts["status"]
    assert st["currentReplicas"] == 3 and st["updatedReplicas"] == 3 and st["availableReplicas"] == 3
    assert st["currentRevision"] == st["updateRevision"] and st["currentRevision"].startswith("web-")
    assert st["collisionCount"] == 0

    pods = pods_by_name(plane)
    service = plane.client.get(SERVICES, "web", namespace="default")
    assert service["spec"]["clusterIP"] == "None"
    for ordinal in range(3):
        pod = pods[f"web-{ordinal}"]
        labels = pod["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == f"web-{ordinal}"
        assert labels["apps.kubernetes.io/pod-index"] == str(ordinal)
        assert labels["controller-revision-hash"] == st["updateRevision"]
        assert pod["spec"]["hostname"] == f"web-{ordinal}"
        assert pod["spec"]["subdomain"] == service["metadata"]["name"]
        assert pod["metadata"]["ownerReferences"][0]["uid"] == sts["metadata"]["uid"]

    revision = plane.client.get(CONTROLLERREVISIONS, st["updateRevision"], namespace="default")
    assert revision["revision"] == 1 and revision["data"]["spec"]["template"]["$patch"] == "replace"
    assert revision["metadata"]["labels"]["controller-revision-hash"] in st["updateRevision"]

    # OrderedReady: each pod is created only once the one before it is Running and Ready.
    assert events_of(plane, "SuccessfulCreate", count=3) == [
        f"create Pod web-{i} in StatefulSet web successful" for i in range(3)
    ]
    for ordinal in (1, 2):
        before = pods[f"web-{ordinal - 1}"]
        became_ready = next(c for c in before["status"]["conditions"] if c["type"] == "Ready")
        assert became_ready["lastTransitionTime"] <= pods[f"web-{ordinal}"]["metadata"]["creationTimestamp"]


def test_ordered_ready_waits_for_a_pending_pod(plane):
    plane.client.create(STATEFULSETS, statefulset(nodeSelector={"disk": "ssd"}))

    def waiting():
        st = plane.client.get(STATEFULSETS, "web", namespace="default").get("status", {})
        pods = pods_by_name(plane)
        return st.get("replicas") == 1 and st.get("readyReplicas", 0) == 0 and unschedulable(pods["web-0"])

    wait_for(waiting, timeout=30, what="web-0 created and not ready")
    assert sorted(pods_by_name(plane)) == ["web-0"]  # web-1 waits for web-0
    plane.kubectl("label", "node", "worker-1", "disk=ssd")
    ready(plane, 3)


def test_parallel_creates_every_pod_at_once(plane):
    plane.client.create(STATEFULSETS, statefulset(parallel=True, nodeSelector={"disk": "ssd"}))

    def all_pending():
        pods = pods_by_name(plane)
        return sorted(pods) == ["web-0", "web-1", "web-2"] and all(
            p["status"].get("phase") == "Pending" and unschedulable(p) for p in pods.values()
        )

    wait_for(all_pending, timeout=30, what="three pending pods")
    plane.kubectl("label", "node", "worker-2", "disk=ssd")
    ready(plane, 3)


def test_scale_down_removes_the_highest_ordinal_first(plane):
    plane.client.create(STATEFULSETS, statefulset())
    ready(plane, 3)
    seen: list[set[str]] = []

    def scaled():
        names = set(pods_by_name(plane))
        seen.append(names)
        return names == {"web-0"}

    plane.kubectl("scale", "statefulset/web", "--replicas=1")
    wait_for(scaled, timeout=30, interval=0.05, what="only web-0 left")
    assert not any("web-2" in names and "web-1" not in names for names in seen)
    assert events_of(plane, "SuccessfulDelete", count=2) == [
        "delete Pod web-2 in StatefulSet web successful",
        "delete Pod web-1 in StatefulSet web successful",
    ]
    ready(plane, 1)


def test_rolling_update_replaces_pods_from_the_highest_ordinal(plane):
    plane.client.create(STATEFULSETS, statefulset())
    out = plane.kubectl("rollout", "status", "statefulset/web", "--timeout=30s").stdout
    assert "roll out complete: 3 new pods have been updated" in out
    first = plane.client.get(STATEFULSETS, "web", namespace="default")["status"]["currentRevision"]

    plane.kubectl("set", "image", "statefulset/web", "nginx=nginx:1.28")
    out = plane.kubectl("rollout", "status", "statefulset/web", "--timeout=30s").stdout
    assert "roll out complete: 3 new pods have been updated" in out

    sts = ready(plane, 3)
    st = sts["status"]
    assert st["currentRevision"] == st["updateRevision"] != first
    pods = pods_by_name(plane)
    assert {p["spec"]["containers"][0]["image"] for p in pods.values()} == {"nginx:1.28"}
    assert {p["metadata"]["labels"]["controller-revision-hash"] for p in pods.values()} == {
        st["updateRevision"]
    }
    deletes = events_of(plane, "SuccessfulDelete", count=3)
    assert deletes == [f"delete Pod web-{i} in StatefulSet web successful" for i in (2, 1, 0)]
    revisions = plane.client.list(CONTROLLERREVISIONS, namespace="default", label_selector="app=web").items
    assert sorted(r["revision"] for r in revisions) == [1, 2]

    # Undo brings the first template back: its revision is reused, renumbered as the newest.
    plane.kubectl("rollout", "undo", "statefulset/web")
    plane.kubectl("rollout", "status", "statefulset/web", "--timeout=30s")
    st = ready(plane, 3)["status"]
    assert st["currentRevision"] == st["updateRevision"] == first
    assert plane.client.get(CONTROLLERREVISIONS, first, namespace="default")["revision"] == 3
    assert {p["spec"]["containers"][0]["image"] for p in pods_by_name(plane).values()} == {"nginx:1.27"}


def test_partition_keeps_lower_ordinals_on_the_current_revision(plane):
    body = statefulset()
    body["spec"]["updateStrategy"] = {"type": "RollingUpdate", "rollingUpdate": {"partition": 2}}
    plane.client.create(STATEFULSETS, body)
    ready(plane, 3)
    plane.kubectl("set", "image", "statefulset/web", "nginx=nginx:1.28")

    def partitioned():
        sts = plane.client.get(STATEFULSETS, "web", namespace="default")
        st = sts["status"]
        images = {n: p["spec"]["containers"][0]["image"] for n, p in pods_by_name(plane).items()}
        done = (
            st.get("observedGeneration") == sts["metadata"]["generation"]
            and st.get("updatedReplicas") == 1
            and st.get("readyReplicas") == 3
            and images == {"web-0": "nginx:1.27", "web-1": "nginx:1.27", "web-2": "nginx:1.28"}
        )
        return done and st

    st = wait_for(partitioned, timeout=30, what="only web-2 updated")
    assert st["currentRevision"] != st["updateRevision"] and st["currentReplicas"] == 2
    out = plane.kubectl("rollout", "status", "statefulset/web", "--timeout=30s").stdout
    assert "partitioned roll out complete: 1 new pods have been updated" in out
