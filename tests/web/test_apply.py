"""The forms' endpoints against a live server: apply, dry run, all-or-nothing, limits, CSRF, actions."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.conftest import LiveCluster, LiveServer

pytestmark = pytest.mark.live

DEPLOY = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: %(name)s}
spec:
  replicas: 2
  selector: {matchLabels: {app: %(name)s}}
  template:
    metadata: {labels: {app: %(name)s}}
    spec:
      containers: [{name: c, image: %(image)s}]
"""


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{k: v}}\n"


@pytest.fixture
def web(kubeviz_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=kubeviz_server.url, timeout=60) as c:
        assert c.get("/").status_code == 200  # the page sets the CSRF cookie
        c.headers["X-CSRFToken"] = c.cookies["csrftoken"]
        yield c


def get(c: LiveCluster, path: str) -> httpx.Response:
    return httpx.get(c.server + path, timeout=30)


def test_apply_creates_then_configures_then_leaves_unchanged(web: httpx.Client, cluster: LiveCluster) -> None:
    text = DEPLOY % {"name": "web", "image": "nginx:1.27"} + "---\n" + cm("settings")
    first = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": text})
    assert first.status_code == 200, first.text
    assert [d["result"] for d in first.json()["documents"]] == ["created", "created"]
    dep = get(cluster, "/apis/apps/v1/namespaces/default/deployments/web").json()
    assert dep["spec"]["replicas"] == 2
    assert any(m["manager"] == "kubeviz-web" for m in dep["metadata"]["managedFields"])
    again = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": text})
    assert [d["result"] for d in again.json()["documents"]] == ["unchanged", "unchanged"]
    changed = web.post(
        f"/api/clusters/{cluster.name}/apply", json={"yaml": text.replace("replicas: 2", "replicas: 4")}
    )
    assert [d["result"] for d in changed.json()["documents"]] == ["configured", "unchanged"]
    # The request was the apiserver's like any other, from kubeviz-web.
    traces = httpx.get(f"{web.base_url}/api/clusters/{cluster.name}/requests?limit=200").json()["items"]
    assert any(t["component"] == "kubeviz-web" and t["verb"] == "patch" for t in traces)


def test_dry_run_creates_nothing(web: httpx.Client, cluster: LiveCluster) -> None:
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": cm("dry"), "dryRun": True})
    assert resp.status_code == 200 and resp.json()["dryRun"] is True
    assert resp.json()["documents"][0]["result"] == "created"
    assert get(cluster, "/api/v1/namespaces/default/configmaps/dry").status_code == 404


def test_a_failing_document_applies_none(web: httpx.Client, cluster: LiveCluster) -> None:
    docs = [cm("one"), cm("two"), DEPLOY % {"name": "Bad_Name", "image": "nginx"}, cm("four"), cm("five")]
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": "---\n".join(docs)})
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["kind"] == "Status" and body["reason"] == "Invalid"
    assert body["details"]["document"] == 2
    assert "document 3 of 5" in body["message"] and "nothing was applied" in body["message"]
    assert any(c["field"] == "metadata.name" for c in body["details"]["causes"])
    assert [d["result"] for d in body["report"]["documents"]] == ["not applied"] * 2 + ["failed"] + [
        "not applied"
    ] * 2
    for name in ("one", "two", "four", "five"):
        assert get(cluster, f"/api/v1/namespaces/default/configmaps/{name}").status_code == 404


def test_missing_image_names_the_field(web: httpx.Client, cluster: LiveCluster) -> None:
    text = DEPLOY % {"name": "noimage", "image": '""'}
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": text})
    assert resp.status_code == 422
    fields = [c["field"] for c in resp.json()["details"]["causes"]]
    assert "spec.template.spec.containers[0].image" in fields
    assert get(cluster, "/apis/apps/v1/namespaces/default/deployments/noimage").status_code == 404


def test_a_namespace_and_its_objects_in_one_submission(web: httpx.Client, cluster: LiveCluster) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" + cm("cart").replace(
        "name: cart}", "name: cart, namespace: shop}"
    )
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": text})
    assert resp.status_code == 200, resp.text
    assert get(cluster, "/api/v1/namespaces/shop/configmaps/cart").status_code == 200


def test_size_limit_at_n_and_n_plus_one(web: httpx.Client, cluster: LiveCluster) -> None:
    head = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {k: "
    limit = 3 * 1024 * 1024
    too_big = head + "x" * (limit + 1 - len(head) - 1) + "}"
    assert len(too_big.encode()) == limit + 1
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": too_big})
    assert resp.status_code == 413 and resp.json()["reason"] == "RequestEntityTooLarge"
    four = web.post(
        f"/api/clusters/{cluster.name}/apply", json={"yaml": head + "x" * (4 * 1024 * 1024) + "}"}
    )
    assert four.status_code == 413
    # At the limit the manifest is read and sent on; the apiserver's own object limit answers.
    at = head + "x" * (limit - len(head) - 1) + "}"
    assert len(at.encode()) == limit
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": at})
    assert "the manifest is" not in resp.json().get("message", "")


def test_unsafe_yaml_is_refused(web: httpx.Client, cluster: LiveCluster) -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": bomb})
    assert resp.status_code == 400 and "aliases" in resp.json()["message"]
    tagged = "!!python/object/apply:os.system ['true']\n"
    resp = web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": tagged})
    assert resp.status_code == 400 and resp.json()["kind"] == "Status"
    unknown = web.post(
        f"/api/clusters/{cluster.name}/apply",
        json={"yaml": "apiVersion: v9\nkind: Gizmo\nmetadata: {name: g}\n"},
    )
    assert unknown.status_code == 404 and 'kind "Gizmo"' in unknown.json()["message"]


def test_forms_need_the_csrf_token(kubeviz_server: LiveServer, cluster: LiveCluster) -> None:
    resp = httpx.post(f"{kubeviz_server.url}/api/clusters/{cluster.name}/apply", json={"yaml": cm("x")})
    assert resp.status_code == 403
    assert resp.json()["kind"] == "Status" and "CSRF" in resp.json()["message"]
    assert get(cluster, "/api/v1/namespaces/default/configmaps/x").status_code == 404


def test_scale_restart_and_delete_with_propagation(web: httpx.Client, cluster: LiveCluster) -> None:
    web.post(
        f"/api/clusters/{cluster.name}/apply", json={"yaml": DEPLOY % {"name": "api", "image": "nginx"}}
    ).raise_for_status()
    ref = {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "default", "name": "api"}
    act = f"/api/clusters/{cluster.name}/actions"
    assert web.post(act, json={**ref, "action": "scale", "replicas": 5}).status_code == 200
    assert get(cluster, "/apis/apps/v1/namespaces/default/deployments/api").json()["spec"]["replicas"] == 5
    bad = web.post(act, json={**ref, "action": "scale", "replicas": 1001})
    assert bad.status_code == 422 and bad.json()["details"]["causes"][0]["field"] == "replicas"
    assert web.post(act, json={**ref, "action": "scale", "replicas": 1000}).status_code == 200
    assert web.post(act, json={**ref, "action": "restart"}).status_code == 200
    template = get(cluster, "/apis/apps/v1/namespaces/default/deployments/api").json()["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    nope = web.post(act, json={**ref, "action": "delete", "propagationPolicy": "Sometimes"})
    assert nope.status_code == 422
    gone = web.post(act, json={**ref, "action": "delete", "propagationPolicy": "Foreground"})
    assert gone.status_code == 200, gone.text
    after = get(cluster, "/apis/apps/v1/namespaces/default/deployments/api")
    # Foreground: the owner waits, marked for deletion, behind the foregroundDeletion finalizer.
    assert after.status_code == 404 or "foregroundDeletion" in after.json()["metadata"].get("finalizers", [])


def test_replace_mode_refuses_a_stale_edit(web: httpx.Client, cluster: LiveCluster) -> None:
    web.post(f"/api/clusters/{cluster.name}/apply", json={"yaml": cm("edited")}).raise_for_status()
    current = get(cluster, "/api/v1/namespaces/default/configmaps/edited").json()
    current["data"] = {"k": "new"}
    ok = web.post(
        f"/api/clusters/{cluster.name}/apply", json={"yaml": yaml.safe_dump(current), "mode": "replace"}
    )
    assert ok.status_code == 200, ok.text
    stale = web.post(
        f"/api/clusters/{cluster.name}/apply", json={"yaml": yaml.safe_dump(current), "mode": "replace"}
    )
    assert stale.status_code == 409 and stale.json()["reason"] == "Conflict"
