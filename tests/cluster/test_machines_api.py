"""The explorer's machines, components, routes, proxy rules, DNS and trace endpoints: the contract.

No node agent runs here (the live server alone), so these tests pin down the API's shapes,
its validation at the limits, and its errors; ``tests/machines`` drives the agents.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.live


@pytest.fixture
def bare(kubeviz_server: LiveServer) -> Iterator[str]:
    name = "mach-" + uuid.uuid4().hex[:8]
    body = {"name": name, "masters": 1, "workers": 2, "addons": False}
    assert httpx.post(f"{kubeviz_server.url}/api/clusters", json=body, timeout=30).status_code == 201
    yield f"{kubeviz_server.url}/api/clusters/{name}"
    httpx.delete(f"{kubeviz_server.url}/api/clusters/{name}", timeout=30)


def test_machines_list_masters_first_with_their_components(bare: str) -> None:
    items = httpx.get(f"{bare}/machines").json()["items"]
    assert [(m["name"], m["role"], m["running"]) for m in items] == [
        ("master-1", "master", True),
        ("worker-1", "worker", True),
        ("worker-2", "worker", True),
    ]
    master = {c["name"]: c for c in items[0]["components"]}
    assert list(master) == [
        "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "flanneld",
    ]  # fmt: skip
    assert master["kubelet"]["running"] is True  # the machine is on and its kubelet switched on
    assert master["etcd"]["running"] is False  # no kubelet has started its static pod here
    assert [c["name"] for c in items[1]["components"]] == ["kubelet", "kube-proxy", "flanneld"]
    assert items[1]["ip"] == "192.168.0.101" and items[0]["ip"] == "192.168.0.11"


def test_adding_a_worker_and_the_limits(bare: str) -> None:
    added = httpx.post(f"{bare}/machines", json={"role": "worker", "cpu": 8, "memory": "32Gi", "pods": 250})
    assert added.status_code == 201, added.text
    assert added.json()["name"] == "worker-3"
    assert added.json()["resources"] == {"cpu": "8", "memory": "32Gi", "pods": "250"}
    for body, field in [
        ({"role": "master"}, "role"),
        ({"role": "worker", "memory": "lots"}, "memory"),
        ({"role": "worker", "pods": 251}, "pods"),
        ({"role": "worker", "cpu": 0}, "cpu"),
        ({}, "role"),
    ]:
        r = httpx.post(f"{bare}/machines", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["kind"] == "Status" and r.json()["details"]["causes"][0]["field"] == field
    assert httpx.post(f"{bare}/machines", content=b"{nope").json()["code"] == 400
    assert len(httpx.get(f"{bare}/machines").json()["items"]) == 4  # nothing half-made by the failures


def test_the_thousandth_worker_is_the_last(kubeviz_server: LiveServer) -> None:
    name = "big-" + uuid.uuid4().hex[:8]
    base = f"{kubeviz_server.url}/api/clusters"
    body = {"name": name, "masters": 1, "workers": 999, "addons": False}
    assert httpx.post(base, json=body, timeout=120).status_code == 201
    try:
        assert httpx.post(f"{base}/{name}/machines", json={"role": "worker"}, timeout=30).status_code == 201
        refused = httpx.post(f"{base}/{name}/machines", json={"role": "worker"}, timeout=30)
        assert refused.status_code == 422
        assert "1000 workers" in refused.json()["message"]
    finally:
        httpx.delete(f"{base}/{name}", timeout=120)


def test_power_and_component_switches(bare: str) -> None:
    boot = httpx.get(f"{bare}/machines/worker-1").json()["bootID"]
    off = httpx.patch(f"{bare}/machines/worker-1", json={"running": False})
    assert off.status_code == 200 and off.json()["running"] is False
    assert {c["name"]: c["running"] for c in off.json()["components"]}["kubelet"] is False
    on = httpx.patch(f"{bare}/machines/worker-1", json={"running": True}).json()
    assert on["running"] is True and on["bootID"] != boot  # a power cycle is a new boot

    stopped = httpx.patch(
        f"{bare}/machines/master-1/components/kube-scheduler", json={"running": False}
    ).json()
    assert {c["name"]: c["enabled"] for c in stopped["components"]}["kube-scheduler"] is False
    for path, body, code in [
        ("/machines/worker-1", {"running": "yes"}, 422),
        ("/machines/worker-1", {"running": False, "role": "master"}, 422),
        ("/machines/worker-9", {"running": False}, 404),
        ("/machines/worker-1/components/etcd", {"running": False}, 404),  # workers run no etcd
    ]:
        r = httpx.patch(f"{bare}{path}", json=body)
        assert r.status_code == code, (path, r.text)
        assert r.json()["kind"] == "Status"


def test_node_state_endpoints_before_any_agent_ran(bare: str) -> None:
    rules = httpx.get(f"{bare}/machines/worker-1/proxy-rules").json()
    assert rules == {"machine": "worker-1", "mode": "iptables", "synced": False, "text": "", "services": []}
    routes = httpx.get(f"{bare}/machines/worker-1/routes").json()
    assert routes["synced"] is False and routes["daemon"] == "flanneld"
    assert httpx.get(f"{bare}/machines/nope/routes").status_code == 404


@pytest.mark.parametrize(
    ("path", "params", "code", "field"),
    [
        ("/dns", {"from": "default/p"}, 400, "name"),
        ("/dns", {"name": "web", "from": "p"}, 400, "from"),
        ("/dns", {"name": "web", "from": "default/p", "type": "AAAA"}, 400, "type"),
        ("/trace", {"from": "default/p", "to": "web"}, 400, "to"),
        ("/trace", {"from": "default/p", "to": "web:0"}, 400, "to"),
        ("/trace", {"from": "default/p", "to": "web:65536"}, 400, "to"),
        ("/trace", {"from": "default/p", "to": "web:80", "protocol": "ICMP"}, 400, "protocol"),
    ],
)
def test_dns_and_trace_reject_bad_questions(
    bare: str, path: str, params: dict, code: int, field: str
) -> None:
    r = httpx.get(f"{bare}{path}", params=params)
    assert r.status_code == code
    assert r.json()["details"]["causes"][0]["field"] == field


def test_a_trace_from_a_missing_pod_names_the_missing_hop(bare: str) -> None:
    r = httpx.get(f"{bare}/trace", params={"from": "default/ghost", "to": "web:65535"})
    assert r.status_code == 404
    body = r.json()
    assert body["kind"] == "Status" and body["details"]["name"] == "source"
    assert body["message"] == 'pod "default/ghost" not found'


def test_deleting_the_cluster_removes_its_machines(kubeviz_server: LiveServer) -> None:
    name = "gone-" + uuid.uuid4().hex[:8]
    base = f"{kubeviz_server.url}/api/clusters"
    assert httpx.post(base, json={"name": name, "workers": 1, "addons": False}).status_code == 201
    assert httpx.delete(f"{base}/{name}", timeout=30).status_code == 200
    assert httpx.get(f"{base}/{name}/machines").status_code == 404
    again = httpx.post(base, json={"name": name, "workers": 1, "addons": False})
    assert [m["name"] for m in httpx.get(f"{base}/{name}/machines").json()["items"]] == [
        "master-1",
        "worker-1",
    ]
    assert again.status_code == 201
    httpx.delete(f"{base}/{name}", timeout=30)
