"""The Deployment controller end to end: kubectl drives it, the ReplicaSet controller and the
scheduler run the pods, and the tests read back what a user would see."""

from __future__ import annotations

from typing import Any

import yaml

from kubeviz.client import DEPLOYMENTS, EVENTS, PODS, REPLICASETS
from kubeviz.controllers.deployment import helpers
from tests.standin import wait_for

NS = "default"
REVISION = "deployment.kubernetes.io/revision"


def manifest(
    replicas: int = 3,
    *,
    image: str = "nginx:1.27",
    strategy: dict[str, Any] | None = None,
    node_selector: dict[str, str] | None = None,
    deadline: int | None = None,
) -> str:
    pod_spec: dict[str, Any] = {"containers": [{"name": "web", "image": image}]}
    if node_selector:
        pod_spec["nodeSelector"] = node_selector
    spec: dict[str, Any] = {
        "replicas": replicas,
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": pod_spec},
    }
    if strategy:
        spec["strategy"] = strategy
    if deadline is not None:
        spec["progressDeadlineSeconds"] = deadline
    return yaml.safe_dump(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": NS},
            "spec": spec,
        }
    )


def replicasets(plane) -> dict[str, dict[str, Any]]:
    items = plane.client.list(REPLICASETS, namespace=NS, label_selector="app=web").items
    return {rs["metadata"]["name"]: rs for rs in items}


def live_pods(plane) -> list[dict[str, Any]]:
    pods = plane.client.list(PODS, namespace=NS, label_selector="app=web").items
    return [p for p in pods if not p["metadata"].get("deletionTimestamp")]


def condition(d: dict[str, Any], kind: str) -> dict[str, Any]:
    return next((c for c in d.get("status", {}).get("conditions") or [] if c["type"] == kind), {})


def event_messages(plane, reason: str) -> list[str]:
    items = plane.client.list(EVENTS, namespace=NS).items
    found = [e for e in items if e["involvedObject"].get("kind") == "Deployment" and e["reason"] == reason]
    found.sort(key=lambda e: (e.get("firstTimestamp") or "", e["metadata"]["name"]))
    return [e["message"] for e in found]


def rollout(plane) -> None:
    plane.kubectl("rollout", "status", "deployment/web", "--timeout=60s", timeout=70)


def deployment(plane) -> dict[str, Any]:
    return plane.client.get(DEPLOYMENTS, "web", namespace=NS)


def test_apply_rolls_out_a_named_hashed_replicaset(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(3))
    rollout(plane)

    d = deployment(plane)
    (rs,) = replicasets(plane).values()
    pod_template_hash = rs["metadata"]["labels"]["pod-template-hash"]
    assert rs["metadata"]["name"] == f"web-{pod_template_hash}"
    assert rs["spec"]["selector"]["matchLabels"] == {"app": "web", "pod-template-hash": pod_template_hash}
    assert rs["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == pod_template_hash
    (owner,) = rs["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Deployment", d["metadata"]["uid"], True)
    annotations = rs["metadata"]["annotations"]
    assert annotations[REVISION] == "1"
    assert annotations["deployment.kubernetes.io/desired-replicas"] == "3"
    assert annotations["deployment.kubernetes.io/max-replicas"] == "4"  # 25% surge of 3 rounds up
    assert "kubectl.kubernetes.io/last-applied-configuration" not in annotations

    assert d["metadata"]["annotations"][REVISION] == "1"
    status = d["status"]
    assert status["observedGeneration"] == d["metadata"]["generation"]
    assert (status["replicas"], status["updatedReplicas"], status["readyReplicas"]) == (3, 3, 3)
    assert (status["availableReplicas"], status["unavailableReplicas"]) == (3, 0)
    available = condition(d, "Available")
    assert (available["status"], available["reason"]) == ("True", "MinimumReplicasAvailable")
    assert available["message"] == "Deployment has minimum availability."
    progressing = condition(d, "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("True", "NewReplicaSetAvailable")
    assert progressing["message"] == f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.'
    assert len(live_pods(plane)) == 3
    assert event_messages(plane, "ScalingReplicaSet") == [
        f"Scaled up replica set {rs['metadata']['name']} from 0 to 3"
    ]


def test_set_image_rolls_forward_and_undo_reuses_the_first_replicaset(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(3))
    rollout(plane)
    (first,) = replicasets(plane)

    plane.kubectl("set", "image", "deployment/web", "web=nginx:1.28")
    rollout(plane)
    rss = replicasets(plane)
    (second,) = set(rss) - {first}
    assert rss[second]["metadata"]["annotations"][REVISION] == "2"
    assert rss[second]["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.28"
    wait_for(lambda: replicasets(plane)[first]["status"].get("replicas") == 0, what="old pods gone")
    assert replicasets(plane)[first]["spec"]["replicas"] == 0
    messages = event_messages(plane, "ScalingReplicaSet")
    assert any(m.startswith(f"Scaled up replica set {second} from 0 to ") for m in messages)
    assert any(m.startswith(f"Scaled down replica set {first} from 3 to ") for m in messages)

    plane.kubectl("rollout", "undo", "deployment/web")
    rollout(plane)
    rss = replicasets(plane)
    assert set(rss) == {first, second}  # no third ReplicaSet: the first one is back
    annotations = rss[first]["metadata"]["annotations"]
    assert annotations[REVISION] == "3"
    assert annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert rss[first]["spec"]["replicas"] == 3
    assert rss[second]["spec"]["replicas"] == 0
    assert deployment(plane)["metadata"]["annotations"][REVISION] == "3"
    hashes = wait_for(
        lambda: (
            (p := live_pods(plane))
            and len(p) == 3
            and {x["metadata"]["labels"]["pod-template-hash"] for x in p}
        ),
        what="3 pods of the first template",
    )
    assert hashes == {rss[first]["metadata"]["labels"]["pod-template-hash"]}
    history = plane.kubectl("rollout", "history", "deployment/web").stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["2", "3"]


def test_scaling_up_and_down_converges_to_exactly_that_many_pods(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(3))
    rollout(plane)

    plane.kubectl("scale", "deployment/web", "--replicas=10")
    rollout(plane)
    assert len(live_pods(plane)) == 10
    (rs,) = replicasets(plane).values()
    assert rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "10"

    plane.kubectl("scale", "deployment/web", "--replicas=2")
    # kubectl rollout status does not wait for a scale-down; the status has to get there.
    wait_for(
        lambda: (
            (s := deployment(plane)["status"])
            and (s["replicas"], s["availableReplicas"], s["updatedReplicas"]) == (2, 2, 2)
        ),
        what="a status of 2 replicas",
    )
    wait_for(lambda: len(live_pods(plane)) == 2, what="2 pods")
    messages = event_messages(plane, "ScalingReplicaSet")
    name = rs["metadata"]["name"]
    assert f"Scaled up replica set {name} from 3 to 10" in messages
    assert f"Scaled down replica set {name} from 10 to 2" in messages


def test_scaling_mid_rollout_keeps_the_total(plane):
    # Pods of the new template never schedule, so the rollout stays half-way while it is resized.
    plane.kubectl("apply", "-f", "-", input=manifest(4))
    rollout(plane)
    patch = '{"spec":{"template":{"spec":{"nodeSelector":{"disk":"none"}}}}}'
    plane.kubectl("patch", "deployment/web", "-p", patch)

    def half_way() -> dict[str, dict[str, Any]] | None:
        rss = replicasets(plane)
        return rss if len(rss) == 2 and sum(r["spec"]["replicas"] for r in rss.values()) == 5 else None

    wait_for(half_way, what="a rollout stuck at maxSurge")  # 4 + 1 surge
    plane.kubectl("scale", "deployment/web", "--replicas=8")

    def resized() -> dict[str, int] | None:
        d = deployment(plane)
        sizes = {n: r["spec"]["replicas"] for n, r in replicasets(plane).items()}
        ok = (
            d["status"].get("observedGeneration") == d["metadata"]["generation"] and sum(sizes.values()) == 10
        )
        return sizes if ok else None

    sizes = wait_for(resized, what="8 replicas + 2 surge spread over both ReplicaSets")
    assert all(size > 0 for size in sizes.values())


def test_recreate_scales_old_pods_away_before_starting_new_ones(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(2, strategy={"type": "Recreate"}))
    rollout(plane)
    (first,) = replicasets(plane)

    plane.kubectl("set", "image", "deployment/web", "web=nginx:1.28")
    rollout(plane)
    rss = replicasets(plane)
    (second,) = set(rss) - {first}
    assert (rss[first]["spec"]["replicas"], rss[second]["spec"]["replicas"]) == (0, 2)
    wait_for(lambda: len(live_pods(plane)) == 2, what="2 pods")
    assert {p["metadata"]["labels"]["pod-template-hash"] for p in live_pods(plane)} == {
        rss[second]["metadata"]["labels"]["pod-template-hash"]
    }
    messages = event_messages(plane, "ScalingReplicaSet")
    down = messages.index(f"Scaled down replica set {first} from 2 to 0")
    up = messages.index(f"Scaled up replica set {second} from 0 to 2")
    assert down < up


def test_pause_holds_the_rollout_and_resume_lets_it_go(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(2))
    rollout(plane)
    (first,) = replicasets(plane)

    plane.kubectl("rollout", "pause", "deployment/web")
    plane.kubectl("set", "image", "deployment/web", "web=nginx:1.28")

    def paused_and_observed() -> dict[str, Any] | None:
        d = deployment(plane)
        observed = d["status"].get("observedGeneration") == d["metadata"]["generation"]
        return d if observed and condition(d, "Progressing").get("reason") == "DeploymentPaused" else None

    d = wait_for(paused_and_observed, what="the paused template change observed")
    progressing = condition(d, "Progressing")
    assert (progressing["status"], progressing["message"]) == ("Unknown", "Deployment is paused")
    assert set(replicasets(plane)) == {first}  # no new ReplicaSet while paused
    assert d["status"].get("updatedReplicas", 0) == 0

    plane.kubectl("rollout", "resume", "deployment/web")
    rollout(plane)
    rss = replicasets(plane)
    (second,) = set(rss) - {first}
    assert rss[second]["metadata"]["annotations"][REVISION] == "2"
    assert condition(deployment(plane), "Progressing")["reason"] == "NewReplicaSetAvailable"


def test_unschedulable_rollout_exceeds_its_progress_deadline(plane):
    plane.kubectl("apply", "-f", "-", input=manifest(3, node_selector={"disk": "none"}, deadline=2))

    def timed_out() -> dict[str, Any] | None:
        d = deployment(plane)
        return d if condition(d, "Progressing").get("reason") == "ProgressDeadlineExceeded" else None

    d = wait_for(timed_out, timeout=30, what="ProgressDeadlineExceeded")
    (rs,) = replicasets(plane)
    progressing = condition(d, "Progressing")
    assert progressing["status"] == "False"
    assert progressing["message"] == f'ReplicaSet "{rs}" has timed out progressing.'
    available = condition(d, "Available")
    assert (available["status"], available["reason"]) == ("False", "MinimumReplicasUnavailable")
    assert d["status"]["unavailableReplicas"] == 3

    proc = plane.kubectl("rollout", "status", "deployment/web", "--timeout=20s", check=False, timeout=30)
    assert proc.returncode != 0
    assert 'deployment "web" exceeded its progress deadline' in proc.stderr


def test_revision_history_limit_deletes_the_oldest_spare_replicasets(plane):
    body = yaml.safe_load(manifest(2))
    body["spec"]["revisionHistoryLimit"] = 1
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(body))
    rollout(plane)
    (first,) = replicasets(plane)
    for image in ("nginx:1.28", "nginx:1.29"):
        plane.kubectl("set", "image", "deployment/web", f"web={image}")
        rollout(plane)

    def two_left() -> dict[str, dict[str, Any]] | None:
        rss = replicasets(plane)
        return rss if len(rss) == 2 else None

    rss = wait_for(two_left, what="the newest ReplicaSet and one spare")
    assert first not in rss
    assert sorted(r["metadata"]["annotations"][REVISION] for r in rss.values()) == ["2", "3"]


def test_a_name_collision_bumps_collision_count(plane):
    # Created paused, the Deployment has no ReplicaSet yet; a stranger takes the name its
    # template hashes to, so the controller must pick another name.
    body = yaml.safe_load(manifest(2))
    body["spec"]["paused"] = True
    plane.kubectl("apply", "-f", "-", input=yaml.safe_dump(body))
    d = deployment(plane)
    taken = f"web-{helpers.compute_pod_template_hash(d['spec']['template'])}"
    labels = {"app": "stranger"}
    stranger = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": taken, "namespace": NS, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "c", "image": "x"}]},
            },
        },
    }
    plane.client.create(REPLICASETS, stranger)

    plane.kubectl("rollout", "resume", "deployment/web")
    rollout(plane)
    (rs,) = replicasets(plane).values()
    assert rs["metadata"]["name"] != taken
    assert rs["metadata"]["name"] == f"web-{helpers.compute_pod_template_hash(d['spec']['template'], 1)}"
    assert deployment(plane)["status"]["collisionCount"] == 1
    assert plane.client.get(REPLICASETS, taken, namespace=NS)["metadata"].get("ownerReferences") is None
