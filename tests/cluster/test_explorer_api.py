"""The explorer API contract: clusters, their validation and their kubeconfig."""

from __future__ import annotations

import httpx
import pytest
import yaml

from tests.conftest import LiveServer

pytestmark = pytest.mark.live


def test_create_get_list_delete(kubeviz_server: LiveServer) -> None:
    base = kubeviz_server.url
    r = httpx.post(
        base + "/api/clusters",
        json={
            "name": "alpha",
            "masters": 3,
            "workers": 4,
            "cni": "calico",
            "proxyMode": "ipvs",
            "mastersSchedulable": True,
            "speed": 2,
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    for key in ("name", "url", "kubeconfig", "websocket"):
        assert key in body
    assert (
        body["masters"],
        body["workers"],
        body["cni"],
        body["proxyMode"],
        body["mastersSchedulable"],
        body["speed"],
    ) == (3, 4, "calico", "ipvs", True, 2.0)
    assert httpx.get(base + "/api/clusters/alpha").json()["name"] == "alpha"
    assert "alpha" in [c["name"] for c in httpx.get(base + "/api/clusters").json()["items"]]
    dup = httpx.post(base + "/api/clusters", json={"name": "alpha"})
    assert dup.status_code == 409 and dup.json()["reason"] == "AlreadyExists"
    cfg = yaml.safe_load(httpx.get(base + "/api/clusters/alpha/kubeconfig").text)
    assert cfg["clusters"][0]["cluster"]["server"].endswith("/k8s/alpha")
    assert httpx.delete(base + "/api/clusters/alpha").status_code == 200
    assert httpx.get(base + "/api/clusters/alpha").status_code == 404
    assert httpx.get(base + "/k8s/alpha/api/v1/namespaces").status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("masters", 1, True),
        ("masters", 5, True),
        ("masters", 2, False),
        ("masters", 7, False),
        ("masters", 0, False),
        ("workers", 0, True),
        ("workers", 1000, True),
        ("workers", 1001, False),
        ("workers", -1, False),
        ("cni", "cilium", True),
        ("cni", "weave", False),
        ("proxyMode", "ipvs", True),
        ("proxyMode", "nftables", False),
        ("name", "Bad_Name", False),
        ("name", "a" * 63, True),
        ("name", "a" * 64, False),
    ],
)
def test_topology_is_validated_with_a_422_naming_the_field(
    kubeviz_server: LiveServer, field: str, value: object, ok: bool
) -> None:
    body: dict = {"name": f"v-{field.lower()}-{abs(hash(str(value))) % 10**6}", "workers": 0}
    body[field] = value
    r = httpx.post(kubeviz_server.url + "/api/clusters", json=body)
    if ok:
        assert r.status_code == 201, r.text
        httpx.delete(kubeviz_server.url + f"/api/clusters/{body['name']}")
    else:
        assert r.status_code == 422, r.text
        status = r.json()
        assert status["kind"] == "Status" and status["reason"] == "Invalid"
        assert [c["field"] for c in status["details"]["causes"]] == [field]


def test_malformed_body_is_a_400(kubeviz_server: LiveServer) -> None:
    r = httpx.post(
        kubeviz_server.url + "/api/clusters", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["reason"] == "BadRequest"


def test_index_page_lists_clusters(kubeviz_server: LiveServer) -> None:
    r = httpx.get(kubeviz_server.url + "/")
    assert r.status_code == 200 and "kubeviz" in r.text and "/api/clusters" in r.text


def test_every_answer_carries_the_protective_headers(kubeviz_server: LiveServer) -> None:
    for path in ("/", "/api/clusters", "/k8s/none/api", "/k8s/none/version"):
        r = httpx.get(kubeviz_server.url + path)
        assert r.headers["x-content-type-options"] == "nosniff", path
        assert r.headers["x-frame-options"] == "DENY", path
