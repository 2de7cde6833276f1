"""Scenarios and live links against a live server: store, export, launch, play, share, cap, clean up."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from kubeviz.scenarios import document, runner, services, tasks
from kubeviz.scenarios.models import Launch
from kubeviz.web import activity
from tests.conftest import ROOT, LiveCluster, LiveServer, _wait_http, free_port, live_env

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

STORY = """
apiVersion: kubeviz.io/v1
kind: Scenario
metadata: {name: short-story}
spec:
  title: A short story
  description: |
    Two steps and a pause.
  topology: {masters: 1, workers: 1, speed: 10}
  objects:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: first, namespace: default}, data: {k: v}}
  steps:
  - {at: 5, note: "a second map", apply: [{apiVersion: v1, kind: ConfigMap, metadata: {name: second}, data: {k: v}}]}
  - {at: 6, note: "wait for the viewer", pause: true}
  - {at: 16, note: "the first map goes", delete: [{apiVersion: v1, kind: ConfigMap, name: first}]}
  expect:
  - {apiVersion: v1, kind: ConfigMap, name: second, field: data.k, equals: v}
"""


def post(base: str, path: str, body: dict) -> httpx.Response:  # type: ignore[type-arg]
    return httpx.post(base + path, json=body, timeout=60)


def test_store_read_export_and_import_again(kubeviz_server: LiveServer) -> None:
    base = kubeviz_server.url
    made = post(base, "/api/scenarios", {"yaml": STORY})
    assert made.status_code == 201, made.text
    slug = made.json()["slug"]
    assert made.json()["url"] == f"/s/{slug}" and len(slug) >= 10
    exported = httpx.get(f"{base}/api/scenarios/{slug}/export").text
    again = post(base, "/api/scenarios", {"yaml": exported})
    assert again.status_code == 201 and again.json()["slug"] != slug
    exported_again = httpx.get(f"{base}/api/scenarios/{again.json()['slug']}/export").text
    assert exported_again == exported
    assert yaml.safe_load(exported) == httpx.get(f"{base}/api/scenarios/{slug}").json()["document"]
    assert httpx.get(f"{base}/s/{slug}").status_code in (200, 503)  # 503 only when the front end is unbuilt
    # People's scenarios are not listed; the library is.
    listed = [s["slug"] for s in httpx.get(f"{base}/api/scenarios").json()["items"]]
    assert slug not in listed and listed[0] == "deployment-journey" and len(listed) == 8


def test_bad_scenarios_get_a_status_that_names_the_field(kubeviz_server: LiveServer) -> None:
    base = kubeviz_server.url
    bad = post(base, "/api/scenarios", {"yaml": STORY.replace("workers: 1", "workers: 99")})
    assert bad.status_code == 422 and bad.json()["kind"] == "Status"
    assert bad.json()["details"]["causes"][0]["field"] == "spec.topology.workers"
    assert post(base, "/api/scenarios", {}).status_code == 422
    assert post(base, "/api/scenarios", {"fromCluster": "no-such-cluster"}).status_code == 404
    plain = httpx.post(
        base + "/api/scenarios", content=b'{"yaml": "x"}', headers={"Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    foreign = httpx.post(
        base + "/api/scenarios", json={"yaml": STORY}, headers={"Origin": "https://elsewhere.example"}
    )
    assert foreign.status_code == 403
    assert httpx.get(f"{base}/api/scenarios/nosuchslug").status_code == 404


def test_snapshot_of_a_live_cluster_keeps_the_objects_people_made(
    kubeviz_server: LiveServer, cluster: LiveCluster
) -> None:
    web = httpx.Client(base_url=kubeviz_server.url, timeout=60)
    web.get("/")
    web.headers["X-CSRFToken"] = web.cookies["csrftoken"]
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cart, namespace: shop}\ndata: {size: '3'}\n---\n"
        "apiVersion: v1\nkind: Service\nmetadata: {name: front}\nspec: {selector: {app: front}, ports: [{port: 80}]}\n"
    )
    web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": text}).raise_for_status()
    made = post(kubeviz_server.url, "/api/scenarios", {"fromCluster": cluster.name})
    assert made.status_code == 201, made.text
    doc = httpx.get(f"{kubeviz_server.url}/api/scenarios/{made.json()['slug']}").json()["document"]
    kinds = {(o["kind"], o["metadata"]["name"]) for o in doc["spec"]["objects"]}
    assert kinds == {("Namespace", "shop"), ("ConfigMap", "cart"), ("Service", "front")}
    front = next(o for o in doc["spec"]["objects"] if o["kind"] == "Service")
    assert "clusterIP" not in front["spec"], "a fresh cluster allocates its own ClusterIP"
    assert doc["spec"]["topology"]["workers"] == 2 and doc["spec"]["topology"]["masters"] == 1


def test_a_snapshot_carries_every_object_or_says_why_not(
    kubeviz_server: LiveServer, cluster: LiveCluster
) -> None:
    """At the limit the share holds every object; one more is refused by name, never cut short."""
    api = f"{kubeviz_server.url}/k8s/{cluster.name}/api/v1/namespaces/default/configmaps"
    with httpx.Client(timeout=30) as c:
        for i in range(document.MAX_OBJECTS):
            c.post(api, json={"metadata": {"name": f"m-{i}"}, "data": {"k": "v"}}).raise_for_status()
        made = post(kubeviz_server.url, "/api/scenarios", {"fromCluster": cluster.name})
        assert made.status_code == 201, made.text
        doc = c.get(f"{kubeviz_server.url}/api/scenarios/{made.json()['slug']}").json()["document"]
        assert len(doc["spec"]["objects"]) == document.MAX_OBJECTS
        c.post(api, json={"metadata": {"name": "one-more"}, "data": {"k": "v"}}).raise_for_status()
        refused = post(kubeviz_server.url, "/api/scenarios", {"fromCluster": cluster.name})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["kind"] == "Status" and body["details"]["causes"][0]["field"] == "spec.objects"
    assert f"holds {document.MAX_OBJECTS + 1} objects" in body["message"]


def test_launch_plays_the_steps_with_a_pause(kubeviz_server: LiveServer, settings) -> None:  # type: ignore[no-untyped-def]
    settings.KUBEVIZ_API_URL = kubeviz_server.url
    scenario = services.scenario_create(doc=document.parse(STORY))
    launch = services.launch(scenario, now=1000.0)
    base = f"{kubeviz_server.url}/k8s/{launch.cluster}/api/v1/namespaces/default/configmaps"
    try:
        info = httpx.get(f"{kubeviz_server.url}/api/clusters/{launch.cluster}").json()
        assert info["listed"] is False and info["workers"] == 1
        assert launch.cluster not in [
            c["name"] for c in httpx.get(f"{kubeviz_server.url}/api/clusters").json()["items"]
        ]
        assert runner.advance(launch, now=1000.0) == 1  # the objects, at 0 s
        assert httpx.get(f"{base}/first").status_code == 200
        assert runner.advance(launch, now=1004.9) == 0
        assert runner.advance(launch, now=1006.0) == 2  # the second map, then the pause
        launch.refresh_from_db()
        assert launch.paused and httpx.get(f"{base}/second").status_code == 200
        assert runner.advance(launch, now=1100.0) == 0, "a pause waits for the viewer"
        runner.resume(launch, now=1100.0)  # 94 s paused: the last step moves to 1016 + 94
        assert runner.advance(launch, now=1109.0) == 0
        assert runner.advance(launch, now=1110.0) == 1
        assert httpx.get(f"{base}/first").status_code == 404
        events = httpx.get(f"{base.rsplit('/', 1)[0]}/events").json()["items"]
        notes = [e["message"] for e in events if e["reason"] == "ScenarioStep"]
        assert "a second map" in notes and "the first map goes" in notes
        story = runner.progress(Launch.objects.get(pk=launch.pk))
        assert story["finished"] and story["reached"] and all(s["done"] for s in story["steps"])
    finally:
        services.cluster_delete(launch.cluster)


def test_live_links_view_only_and_editable(
    kubeviz_server: LiveServer, cluster: LiveCluster, tmp_path: Path
) -> None:
    base = kubeviz_server.url
    view = post(base, f"/api/clusters/{cluster.name}/links", {"mode": "view"}).json()
    edit = post(base, f"/api/clusters/{cluster.name}/links", {"mode": "edit"}).json()
    assert view["token"].startswith("live-") and view["token"] != edit["token"]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "linked"}, "data": {"a": "b"}}
    k8s = "/api/v1/namespaces/default/configmaps"
    assert httpx.get(f"{base}/k8s/{view['token']}{k8s}").status_code == 200
    refused = httpx.post(f"{base}/k8s/{view['token']}{k8s}", json=cm)
    assert refused.status_code == 403 and refused.json()["reason"] == "Forbidden"
    assert (
        httpx.patch(
            f"{base}/api/clusters/{view['token']}/machines/worker-1", json={"running": False}
        ).status_code
        == 403
    )
    assert post(base, f"/api/clusters/{view['token']}/links", {"mode": "edit"}).status_code == 403
    assert httpx.get(f"{base}{cluster.server.split(base)[1]}{k8s}/linked").status_code == 404
    assert httpx.post(f"{base}/k8s/{edit['token']}{k8s}", json=cm).status_code == 201
    # The link never shows the cluster's own name.
    described = httpx.get(f"{base}/api/clusters/{view['token']}").json()
    assert described["name"] == view["token"] and described["mode"] == "view"
    page = httpx.get(f"{base}/clusters/{view['token']}/").text
    assert cluster.name not in page
    assert httpx.delete(f"{base}/api/clusters/{edit['token']}").status_code == 403
    assert httpx.get(f"{base}/k8s/live-{'a' * 26}{k8s}").status_code == 404
    # kubectl with the view-only link's kubeconfig can read but not write.
    kubeconfig = tmp_path / "view.yaml"
    kubeconfig.write_text(httpx.get(f"{base}{view['kubeconfig']}").text)
    assert cluster.name not in kubeconfig.read_text()
    kubectl = str(ROOT / "var" / "tools" / "kubectl")
    env = {"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    got = subprocess.run(
        [kubectl, "get", "configmap", "linked"], capture_output=True, text=True, env=env, timeout=60
    )
    assert got.returncode == 0, got.stderr
    made = subprocess.run(
        [kubectl, "create", "configmap", "nope"], capture_output=True, text=True, env=env, timeout=60
    )
    assert made.returncode != 0 and "view-only" in made.stderr


@pytest.fixture
def capped(redis_url: str, tmp_path: Path) -> Iterator[str]:
    """A server of its own that may run at most two clusters."""
    env = live_env(tmp_path, redis_url)
    env.update({"KUBEVIZ_MAX_CLUSTERS": "2", "KUBEVIZ_REDIS_PREFIX": env["KUBEVIZ_REDIS_PREFIX"] + "-cap"})
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    env["KUBEVIZ_API_URL"] = url = f"http://127.0.0.1:{port}"
    log = open(tmp_path / "daphne.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "kubeviz.asgi:application"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        _wait_http(url + "/api/clusters")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_the_cluster_cap_at_n_and_n_plus_one(capped: str) -> None:
    assert post(capped, "/api/clusters", {"name": "one", "addons": False}).status_code == 201
    story = post(capped, "/api/scenarios", {"yaml": STORY}).json()
    launched = post(capped, f"/api/scenarios/{story['slug']}/launch", {})
    assert launched.status_code == 201, launched.text  # the second: at the cap
    assert launched.json()["url"] == f"/clusters/{launched.json()['cluster']}/"
    refused = post(capped, f"/api/scenarios/{story['slug']}/launch", {})
    assert refused.status_code == 429 and refused.json()["reason"] == "TooManyRequests"
    assert "at once (2)" in refused.json()["message"] and refused.headers["Retry-After"] == "60"
    assert post(capped, "/api/clusters", {"name": "three", "addons": False}).status_code == 429
    httpx.delete(f"{capped}/api/clusters/one")
    assert post(capped, "/api/clusters", {"name": "three", "addons": False}).status_code == 201


def test_idle_launched_clusters_are_removed(kubeviz_server: LiveServer, settings) -> None:  # type: ignore[no-untyped-def]
    settings.KUBEVIZ_API_URL = kubeviz_server.url
    settings.KUBEVIZ_IDLE_MINUTES = 1
    scenario = services.scenario_create(doc=document.parse(STORY))
    busy = services.launch(scenario, now=time.time() - 600)
    idle = services.launch(scenario, now=time.time() - 600)
    activity._last.clear()
    activity.touch(busy.cluster)  # a viewer is on it now
    removed = tasks.reap()
    assert removed == [idle.cluster]
    assert httpx.get(f"{kubeviz_server.url}/api/clusters/{idle.cluster}").status_code == 404
    assert httpx.get(f"{kubeviz_server.url}/api/clusters/{busy.cluster}").status_code == 200
    assert not Launch.objects.filter(cluster=idle.cluster).exists()
    services.cluster_delete(busy.cluster)
