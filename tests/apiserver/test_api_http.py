"""kube-apiserver semantics over real HTTP (Daphne), as any client sees them."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.conftest import LiveCluster

pytestmark = pytest.mark.live


def client(c: LiveCluster, agent: str = "kubeviz-tests/v1") -> httpx.Client:
    return httpx.Client(base_url=c.server, timeout=15, headers={"User-Agent": agent})


def cm(name: str, **extra) -> dict:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}
    body.update(extra)
    return body


def deployment(name: str, replicas: int = 2) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def revision(h: httpx.Client) -> int:
    return int(h.get("/api/v1/namespaces").json()["metadata"]["resourceVersion"])


def assert_status(resp: httpx.Response, code: int, reason: str) -> dict:
    assert resp.status_code == code, resp.text
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert body["code"] == code and body["reason"] == reason, body
    return body


def test_discovery_is_plain_json_with_short_names_and_subresources(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        v = h.get("/version").json()
        assert v["gitVersion"] == "v1.36.0" and v["major"] == "1" and v["minor"] == "36"
        r = h.get("/api", headers={"Accept": "application/json"})
        assert r.headers["content-type"] == "application/json" and r.json()["versions"] == ["v1"]
        v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        agg = h.get("/apis", headers={"Accept": f"{v2};profile=nopeer,{v2},application/json"})
        assert agg.headers["content-type"] == v2
        by_group = {g["metadata"].get("name"): g for g in agg.json()["items"]}
        deploy = next(
            r for r in by_group["apps"]["versions"][0]["resources"] if r["resource"] == "deployments"
        )
        assert deploy["scope"] == "Namespaced" and deploy["shortNames"] == ["deploy"]
        scale = next(s for s in deploy["subresources"] if s["subresource"] == "scale")
        assert scale["responseKind"] == {"group": "autoscaling", "version": "v1", "kind": "Scale"}
        core_agg = h.get("/api", headers={"Accept": v2}).json()["items"]
        assert [v["version"] for v in core_agg[0]["versions"]] == ["v1"]
        core = {x["name"]: x for x in h.get("/api/v1").json()["resources"]}
        assert core["pods"]["shortNames"] == ["po"] and "all" in core["pods"]["categories"]
        assert core["pods/status"]["verbs"] == ["get", "patch", "update"]
        assert core["pods/binding"]["kind"] == "Binding"
        apps = {x["name"]: x for x in h.get("/apis/apps/v1").json()["resources"]}
        assert (
            apps["deployments/scale"]["group"] == "autoscaling"
            and apps["deployments/scale"]["kind"] == "Scale"
        )
        groups = [g["name"] for g in h.get("/apis").json()["groups"]]
        for g in ("apps", "batch", "coordination.k8s.io", "discovery.k8s.io", "events.k8s.io"):
            assert g in groups


def test_new_cluster_has_system_namespaces_and_default_service_accounts(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        names = [n["metadata"]["name"] for n in h.get("/api/v1/namespaces").json()["items"]]
        assert sorted(names) == ["default", "kube-node-lease", "kube-public", "kube-system"]
        for ns in names:
            assert h.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default").status_code == 200
        svc = h.get("/api/v1/namespaces/default/services/kubernetes").json()
        assert svc["spec"]["clusterIP"] == "10.96.0.1"


def test_create_get_update_with_conflicts(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        r = h.post("/api/v1/namespaces/default/configmaps", json=cm("one"))
        assert r.status_code == 201
        made = r.json()
        assert made["metadata"]["uid"] and made["metadata"]["creationTimestamp"].endswith("Z")
        rv = made["metadata"]["resourceVersion"]
        assert_status(h.post("/api/v1/namespaces/default/configmaps", json=cm("one")), 409, "AlreadyExists")
        upd = dict(made, data={"k": "2"})
        r = h.put("/api/v1/namespaces/default/configmaps/one", json=upd)
        assert r.status_code == 200 and int(r.json()["metadata"]["resourceVersion"]) > int(rv)
        stale = dict(made, data={"k": "3"})  # still carries the first resourceVersion
        assert_status(h.put("/api/v1/namespaces/default/configmaps/one", json=stale), 409, "Conflict")
        unconditional = dict(made, data={"k": "4"})
        unconditional["metadata"] = {k: v for k, v in made["metadata"].items() if k != "resourceVersion"}
        assert h.put("/api/v1/namespaces/default/configmaps/one", json=unconditional).json()["data"] == {
            "k": "4"
        }


def test_generate_name_and_generation(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        body = deployment("x")
        body["metadata"] = {"generateName": "web-", "labels": {"app": "x"}}
        d = h.post("/apis/apps/v1/namespaces/default/deployments", json=body).json()
        name = d["metadata"]["name"]
        assert name.startswith("web-") and len(name) == len("web-") + 5
        assert d["metadata"]["generation"] == 1 and d["spec"]["strategy"]["type"] == "RollingUpdate"
        p = h.patch(
            f"/apis/apps/v1/namespaces/default/deployments/{name}",
            content=json.dumps({"metadata": {"labels": {"extra": "1"}}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ).json()
        assert p["metadata"]["generation"] == 1, "a metadata change is not a spec change"
        p = h.patch(
            f"/apis/apps/v1/namespaces/default/deployments/{name}",
            content=json.dumps({"spec": {"replicas": 5}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ).json()
        assert p["metadata"]["generation"] == 2


def test_status_is_only_written_through_the_status_subresource(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        d = h.post(
            "/apis/apps/v1/namespaces/default/deployments", json=deployment("s") | {"status": {"replicas": 9}}
        ).json()
        assert d.get("status", {}).get("replicas") in (None, 0)
        base = "/apis/apps/v1/namespaces/default/deployments/s"
        d["status"] = {"replicas": 3}
        d["spec"]["replicas"] = 7
        s = h.put(base + "/status", json=d).json()
        assert s["status"]["replicas"] == 3 and s["spec"]["replicas"] == 2
        main = h.patch(
            base,
            content=json.dumps({"status": {"replicas": 1}}),
            headers={"Content-Type": "application/merge-patch+json"},
        ).json()
        assert main["status"]["replicas"] == 3


def test_scale_subresource(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        h.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("sc"))
        scale = h.get("/apis/apps/v1/namespaces/default/deployments/sc/scale").json()
        assert (
            scale["kind"] == "Scale"
            and scale["spec"]["replicas"] == 2
            and scale["status"]["selector"] == "app=sc"
        )
        out = h.patch(
            "/apis/apps/v1/namespaces/default/deployments/sc/scale",
            content=json.dumps({"spec": {"replicas": 4}}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert out.json()["spec"]["replicas"] == 4
        assert h.get("/apis/apps/v1/namespaces/default/deployments/sc").json()["spec"]["replicas"] == 4


def test_bad_input_gets_a_status_and_writes_nothing(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        before = revision(h)
        url = "/api/v1/namespaces/default/configmaps"
        assert_status(
            h.post(url, content=b"{not json", headers={"Content-Type": "application/json"}), 400, "BadRequest"
        )
        assert_status(
            h.post(url, content=b"a: [1, 2", headers={"Content-Type": "application/yaml"}), 400, "BadRequest"
        )
        assert_status(h.post(url, json=cm("Bad_Name")), 422, "Invalid")
        assert_status(h.post(url, json=dict(cm("x"), apiVersion="apps/v1")), 400, "BadRequest")
        assert_status(h.post("/api/v1/namespaces/nowhere/configmaps", json=cm("x")), 404, "NotFound")
        body = assert_status(
            h.post(url + "?fieldValidation=Strict", json=dict(cm("x"), bogus=1)), 422, "Invalid"
        )
        assert body["details"]["causes"][0]["field"] == "bogus"
        r = h.post(
            url,
            json={
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "y", "labels": {"bad key!": "v"}},
            },
        )
        assert_status(r, 422, "Invalid")
        assert revision(h) == before, "a failed request must not write"


def test_request_size_limit_at_n_and_n_plus_one(cluster: LiveCluster) -> None:
    limit = 3 * 1024 * 1024
    with client(cluster) as h:

        def sized(n: int) -> bytes:
            head = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"big"},"data":{"k":"'
            tail = b'"}}'
            return head + b"x" * (n - len(head) - len(tail)) + tail

        assert_status(
            h.post(
                "/api/v1/namespaces/default/configmaps",
                content=sized(limit + 1),
                headers={"Content-Type": "application/json"},
            ),
            413,
            "RequestEntityTooLarge",
        )
        r = h.post(
            "/api/v1/namespaces/default/configmaps",
            content=sized(limit),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text[:300]


def test_annotations_limit_at_n_and_n_plus_one(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        value = "v" * (256 * 1024 - 1)  # with the one-byte key "a": exactly 256 KiB
        ok = h.post(
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "ann", "annotations": {"a": value}}},
        )
        assert ok.status_code == 201, ok.text[:300]
        bad = h.post(
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "ann2", "annotations": {"a": value + "v"}}},
        )
        body = assert_status(bad, 422, "Invalid")
        assert body["details"]["causes"][0]["field"] == "metadata.annotations"


def test_billion_laughs_is_refused_quickly(cluster: LiveCluster) -> None:
    lol = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for i in "bcdefghi":
        lol += f"{i}: &{i} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = i
    with client(cluster) as h:
        started = time.monotonic()
        r = h.post(
            "/api/v1/namespaces/default/configmaps",
            content=lol.encode(),
            headers={"Content-Type": "application/yaml"},
        )
        assert_status(r, 400, "BadRequest")
        assert time.monotonic() - started < 2


def test_list_selectors_limit_and_continue(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        for i in range(7):
            h.post(
                "/api/v1/namespaces/default/configmaps",
                json={"metadata": {"name": f"c{i}", "labels": {"tier": "a" if i % 2 else "b", "n": str(i)}}},
            )
        page = h.get("/api/v1/namespaces/default/configmaps?labelSelector=tier%3Da&limit=2").json()
        assert [o["metadata"]["name"] for o in page["items"]] == ["c1", "c3"]
        token = page["metadata"]["continue"]
        h.post(
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "c9", "labels": {"tier": "a"}}},
        )
        rest = h.get(
            f"/api/v1/namespaces/default/configmaps?labelSelector=tier%3Da&limit=10&continue={token}"
        ).json()
        assert [o["metadata"]["name"] for o in rest["items"]] == ["c5"], (
            "later pages read the first page's snapshot"
        )
        assert rest["metadata"]["resourceVersion"] == page["metadata"]["resourceVersion"]
        sel = h.get("/api/v1/namespaces/default/configmaps?labelSelector=n+in+(1,2),tier!%3Db").json()
        assert [o["metadata"]["name"] for o in sel["items"]] == ["c1"]
        assert_status(
            h.get("/api/v1/namespaces/default/configmaps?fieldSelector=data.k%3Dv"), 400, "BadRequest"
        )


def test_delete_with_finalizers_and_foreground(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        h.post(
            "/api/v1/namespaces/default/configmaps",
            json={"metadata": {"name": "fin", "finalizers": ["example.com/hold"]}},
        )
        r = h.delete("/api/v1/namespaces/default/configmaps/fin")
        assert r.status_code == 202 and r.json()["metadata"]["deletionTimestamp"]
        obj = r.json()
        obj["metadata"]["finalizers"] = []
        assert h.put("/api/v1/namespaces/default/configmaps/fin", json=obj).status_code == 200
        assert_status(h.get("/api/v1/namespaces/default/configmaps/fin"), 404, "NotFound")
        h.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("fg"))
        r = h.request(
            "DELETE",
            "/apis/apps/v1/namespaces/default/deployments/fg",
            json={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Foreground"},
        )
        assert r.status_code == 202 and r.json()["metadata"]["finalizers"] == ["foregroundDeletion"]


def test_dry_run_writes_nothing(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        before = revision(h)
        r = h.post(
            "/api/v1/namespaces/default/services?dryRun=All",
            json={"metadata": {"name": "dry"}, "spec": {"ports": [{"port": 80}]}},
        )
        assert r.status_code == 201 and r.json()["spec"]["clusterIP"]
        assert_status(h.get("/api/v1/namespaces/default/services/dry"), 404, "NotFound")
        assert revision(h) == before


def test_services_get_unique_cluster_ips_and_node_ports(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        ips = set()
        for i in range(5):
            s = h.post(
                "/api/v1/namespaces/default/services",
                json={
                    "metadata": {"name": f"s{i}"},
                    "spec": {"type": "NodePort", "selector": {"app": "x"}, "ports": [{"port": 80}]},
                },
            ).json()
            ips.add(s["spec"]["clusterIP"])
            assert 30000 <= s["spec"]["ports"][0]["nodePort"] <= 32767
            assert s["spec"]["ports"][0]["targetPort"] == 80
        assert len(ips) == 5
        taken = h.post(
            "/api/v1/namespaces/default/services",
            json={"metadata": {"name": "dup"}, "spec": {"clusterIP": "10.96.0.1", "ports": [{"port": 80}]}},
        )
        assert_status(taken, 422, "Invalid")
        assert (
            h.get("/apis/networking.k8s.io/v1/ipaddresses/10.96.0.1").json()["spec"]["parentRef"]["name"]
            == "kubernetes"
        )


def test_table_output(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        h.post("/apis/apps/v1/namespaces/default/deployments", json=deployment("tbl"))
        t = h.get(
            "/apis/apps/v1/namespaces/default/deployments",
            headers={"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"},
        ).json()
        assert t["kind"] == "Table"
        assert [c["name"] for c in t["columnDefinitions"]][:5] == [
            "Name",
            "Ready",
            "Up-to-date",
            "Available",
            "Age",
        ]
        assert t["rows"][0]["cells"][0] == "tbl" and t["rows"][0]["cells"][1] == "0/2"


def test_every_failure_is_a_status_never_a_500(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        cases = [
            h.get("/api/v1/namespaces/default/nothings"),
            h.get("/apis/apps/v1/namespaces/default/deployments/none/scale"),
            h.patch(
                "/api/v1/namespaces/default/configmaps/none",
                content=b"{}",
                headers={"Content-Type": "text/plain"},
            ),
            h.patch(
                "/api/v1/namespaces/default/configmaps/none",
                content=b"[]",
                headers={"Content-Type": "application/json-patch+json"},
            ),
            h.post(
                "/api/v1/namespaces/default/configmaps",
                content=b"[1,2]",
                headers={"Content-Type": "application/json"},
            ),
            h.get("/api/v1/namespaces/default/configmaps?limit=abc"),
            h.get("/api/v1/pods?watch=true&resourceVersion=notanumber"),
            h.get("/k8s-nothing"),
        ]
        for r in cases:
            assert 400 <= r.status_code < 500, (r.request.url, r.status_code, r.text)


def test_every_request_is_traced_with_its_component(cluster: LiveCluster) -> None:
    with client(cluster, agent="kube-scheduler/v1.36.0 (linux/amd64) kubeviz") as h:
        made = h.post("/api/v1/namespaces/default/configmaps", json=cm("traced")).json()
        h.get("/api/v1/namespaces/default/configmaps/missing")
    items = httpx.get(f"{cluster.base}/api/clusters/{cluster.name}/requests?limit=5").json()["items"]
    newest, create = items[0], items[1]
    assert (newest["component"], newest["verb"], newest["name"], newest["code"]) == (
        "kube-scheduler",
        "get",
        "missing",
        "404",
    )
    assert (create["verb"], create["resource"], create["code"]) == ("create", "configmaps", "201")
    assert create["name"] == "traced"  # a create's URL has no name; the trace takes the object's
    assert create["revision"] == made["metadata"]["resourceVersion"]
    assert float(create["latency_ms"]) > 0
    assert httpx.get(f"{cluster.base}/api/clusters/{cluster.name}/requests?limit=0").status_code == 400


def _watch_lines(
    c: LiveCluster, path: str, params: dict, count: int, act=None, timeout: float = 10
) -> list[dict]:
    """Read ``count`` watch events (running ``act`` once the stream is open)."""
    import threading

    out: list[dict] = []
    done = threading.Event()

    def read() -> None:
        with httpx.stream("GET", c.server + path, params={"watch": "true", **params}, timeout=timeout) as r:
            assert r.headers["content-type"] == "application/json"
            for line in r.iter_lines():
                if line:
                    out.append(json.loads(line))
                    if len(out) >= count:
                        break
        done.set()

    t = threading.Thread(target=read, daemon=True)
    t.start()
    time.sleep(0.5)
    if act is not None:
        act()
    done.wait(timeout)
    return out


def test_watch_with_send_initial_events_ends_with_the_bookmark(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        for n in ("i1", "i2"):
            h.post("/api/v1/namespaces/default/configmaps", json=cm(n))
        params = {
            "sendInitialEvents": "true",
            "resourceVersionMatch": "NotOlderThan",
            "allowWatchBookmarks": "true",
            "resourceVersion": "",
        }
        events = _watch_lines(
            cluster,
            "/api/v1/namespaces/default/configmaps",
            params,
            4,
            act=lambda: h.post("/api/v1/namespaces/default/configmaps", json=cm("i3")),
        )
    assert [(e["type"], e["object"]["metadata"].get("name")) for e in events] == [
        ("ADDED", "i1"),
        ("ADDED", "i2"),
        ("BOOKMARK", None),
        ("ADDED", "i3"),
    ]
    assert events[2]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    with client(cluster) as h:
        bad = h.get(
            "/api/v1/namespaces/default/configmaps", params={"watch": "true", "sendInitialEvents": "true"}
        )
        assert_status(bad, 422, "Invalid")


def test_watch_with_a_selector_sees_objects_enter_and_leave(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        rv = h.get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]

        def act() -> None:
            h.post(
                "/api/v1/namespaces/default/configmaps",
                json={"metadata": {"name": "m", "labels": {"on": "no"}}},
            )
            patch = {"Content-Type": "application/merge-patch+json"}
            h.patch(
                "/api/v1/namespaces/default/configmaps/m",
                content=json.dumps({"metadata": {"labels": {"on": "yes"}}}),
                headers=patch,
            )
            h.patch(
                "/api/v1/namespaces/default/configmaps/m",
                content=json.dumps({"data": {"x": "1"}}),
                headers=patch,
            )
            h.patch(
                "/api/v1/namespaces/default/configmaps/m",
                content=json.dumps({"metadata": {"labels": {"on": "no"}}}),
                headers=patch,
            )

        events = _watch_lines(
            cluster,
            "/api/v1/namespaces/default/configmaps",
            {"resourceVersion": rv, "labelSelector": "on=yes"},
            3,
            act=act,
        )
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED", "DELETED"]


def test_watch_from_the_future_and_bookmarks(cluster: LiveCluster) -> None:
    with client(cluster) as h:
        rv = h.get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
    events = _watch_lines(
        cluster,
        "/api/v1/namespaces/default/configmaps",
        {"resourceVersion": rv, "allowWatchBookmarks": "true", "timeoutSeconds": "8"},
        1,
        timeout=12,
    )
    assert (
        events
        and events[0]["type"] == "BOOKMARK"
        and int(events[0]["object"]["metadata"]["resourceVersion"]) >= int(rv)
    )


def test_a_delete_racing_with_updates_is_not_a_conflict_but_a_stale_precondition_is(
    cluster: LiveCluster,
) -> None:
    import threading

    with client(cluster) as h:
        for round_ in range(5):
            name = f"racy-{round_}"
            assert h.post("/api/v1/namespaces/default/configmaps", json=cm(name)).status_code == 201
            stop = threading.Event()

            def writer(name: str = name, stop: threading.Event = stop) -> None:
                with client(cluster) as w:
                    i = 0
                    while not stop.is_set():
                        i += 1
                        w.patch(
                            f"/api/v1/namespaces/default/configmaps/{name}",
                            json={"data": {"k": str(i)}},
                            headers={"Content-Type": "application/merge-patch+json"},
                        )

            threads = [threading.Thread(target=writer) for _ in range(3)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            resp = h.delete(f"/api/v1/namespaces/default/configmaps/{name}")
            stop.set()
            for t in threads:
                t.join()
            assert resp.status_code == 200, resp.text
        assert h.post("/api/v1/namespaces/default/configmaps", json=cm("pinned")).status_code == 201
        stale = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": "1"}}
        resp = h.request("DELETE", "/api/v1/namespaces/default/configmaps/pinned", json=stale)
        assert_status(resp, 409, "Conflict")
        assert h.get("/api/v1/namespaces/default/configmaps/pinned").status_code == 200
