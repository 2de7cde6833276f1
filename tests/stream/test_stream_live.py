"""The browser stream over a real Daphne: snapshot, events, resume, origin, flow control."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import websocket

from tests.conftest import ROOT, LiveCluster, LiveServer

pytestmark = pytest.mark.live


class Browser:
    """A websocket client that reads frames like the canvas does, acknowledging each one."""

    def __init__(self, ws: websocket.WebSocket, *, ack: bool = True) -> None:
        self.ws, self.ack = ws, ack
        self.messages: list[dict] = []
        self.last_seq = 0

    def frame(self, timeout: float = 10.0) -> list[dict]:
        self.ws.settimeout(timeout)
        data = json.loads(self.ws.recv())
        assert data["seq"] == self.last_seq + 1, "frames are numbered without a gap"
        self.last_seq = data["seq"]
        if self.ack:
            self.ws.send(json.dumps({"ack": data["seq"]}))
        self.messages.extend(data["messages"])
        return data["messages"]

    def until(self, predicate, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        checked = 0
        while True:
            for m in self.messages[checked:]:
                if predicate(m):
                    return m
            checked = len(self.messages)
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no such message in {len(self.messages)} received")
            self.frame(timeout=left)

    def events(self) -> list[dict]:
        return [m for m in self.messages if m["type"] == "event"]


def ws_url(cluster: LiveCluster, query: str = "") -> str:
    return cluster.base.replace("http://", "ws://") + f"/ws/clusters/{cluster.name}/" + query


@contextmanager
def browser(cluster: LiveCluster, query: str = "", *, ack: bool = True, **options) -> Iterator[Browser]:
    host = cluster.base.removeprefix("http://")
    ws = websocket.create_connection(ws_url(cluster, query), origin=cluster.base, host=host, **options)
    try:
        yield Browser(ws, ack=ack)
    finally:
        ws.close()


def configmap(cluster: LiveCluster, name: str, value: str = "1") -> int:
    api = f"{cluster.server}/api/v1/namespaces/default/configmaps"
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}}
    resp = httpx.post(api, json=body, timeout=10)
    if resp.status_code == 409:
        current = httpx.get(f"{api}/{name}", timeout=10).json()
        current["data"] = {"v": value}
        resp = httpx.put(f"{api}/{name}", json=current, timeout=10)
    assert resp.status_code in (200, 201), resp.text
    return int(resp.json()["metadata"]["resourceVersion"])


def test_a_browser_gets_a_snapshot_then_each_write_as_an_event(cluster: LiveCluster) -> None:
    with browser(cluster) as b:
        snap = b.until(lambda m: m["type"] == "snapshot")
        kinds = {o["kind"] for o in snap["objects"]}
        assert {"Namespace", "Service", "ServiceAccount", "EndpointSlice"} <= kinds
        assert [m["name"] for m in snap["machines"]] == ["master-1", "worker-1", "worker-2"]
        assert all("managedFields" not in o["object"]["metadata"] for o in snap["objects"])
        rev = configmap(cluster, "hello")
        ev = b.until(lambda m: m["type"] == "event" and m["name"] == "hello")
        assert (ev["event"], ev["kind"], ev["namespace"], ev["revision"]) == (
            "ADDED",
            "ConfigMap",
            "default",
            rev,
        )
        assert ev["revision"] > snap["revision"]
        req = b.until(lambda m: m["type"] == "request" and m["revision"] == rev)
        assert (req["verb"], req["resource"], req["namespace"], req["code"]) == (
            "create",
            "configmaps",
            "default",
            201,
        )
        assert req["component"] == "python-httpx"


def test_a_resumed_stream_gets_exactly_what_it_missed(cluster: LiveCluster) -> None:
    with browser(cluster) as b:
        snap = b.until(lambda m: m["type"] == "snapshot")
        first = configmap(cluster, "seen")
        b.until(lambda m: m["type"] == "event" and m["revision"] == first)
    missed = [configmap(cluster, f"missed-{i}") for i in range(5)]
    with browser(cluster, f"?since={first}") as b:
        b.until(lambda m: m["type"] == "event" and m["revision"] == missed[-1])
        assert not any(m["type"] == "snapshot" for m in b.messages), "a kept revision resumes, no snapshot"
        assert [e["revision"] for e in b.events()] == missed, "no gap, no duplicate"
    assert snap["revision"] < first


COMPACT = """
import django, sys
django.setup()
from kubeviz.store.compaction import compact
from kubeviz.store.models import Cluster
print(compact(cluster_id=Cluster.objects.get(name=sys.argv[1]).pk, window_seconds=0))
"""


def test_a_compacted_revision_gets_a_fresh_snapshot(cluster: LiveCluster, kubeviz_server: LiveServer) -> None:
    old = configmap(cluster, "old", "1")
    configmap(cluster, "old", "2")
    # etcd compaction, as the apiserver's periodic task does, run against the server's store.
    env = {**kubeviz_server.env, "DJANGO_SETTINGS_MODULE": "kubeviz.settings"}
    out = subprocess.run(
        [sys.executable, "-c", COMPACT, cluster.name], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout.strip()) > old
    with browser(cluster, f"?since={old}") as b:
        snap = b.until(lambda m: m["type"] == "snapshot")
        assert not b.events(), "nothing is replayed from a compacted revision"
        names = {o["object"]["metadata"]["name"] for o in snap["objects"] if o["kind"] == "ConfigMap"}
        assert "old" in names
        current = next(o for o in snap["objects"] if o["object"]["metadata"]["name"] == "old")
        assert current["object"]["data"] == {"v": "2"}


def test_a_foreign_origin_is_refused(cluster: LiveCluster) -> None:
    host = cluster.base.removeprefix("http://")
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(ws_url(cluster), origin="http://evil.example", host=host)
    assert refused.value.status_code == 403
    with browser(cluster) as b:  # the same page from this site is fine
        assert b.until(lambda m: m["type"] == "snapshot")


def test_an_unknown_cluster_is_closed(cluster: LiveCluster) -> None:
    host = cluster.base.removeprefix("http://")
    url = cluster.base.replace("http://", "ws://") + "/ws/clusters/no-such-cluster/"
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(url, origin=cluster.base, host=host)


def test_a_browser_that_does_not_acknowledge_is_not_sent_more_than_its_window(cluster: LiveCluster) -> None:
    from kubeviz.stream.consumers import FRAME, WINDOW

    with browser(cluster, ack=False) as slow:
        slow.until(lambda m: m["type"] == "snapshot")
        # Enough writes for more frames than the window (each is an event and a request),
        # made in parallel so the burst is over well before the server's websocket ping
        # (which an unread socket cannot answer) would give up on this client.
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(lambda i: configmap(cluster, f"burst-{i}", str(i)), range(FRAME * WINDOW // 2)))
        frames = slow.last_seq
        with pytest.raises(websocket.WebSocketTimeoutException):
            while True:
                slow.frame(timeout=3)
        assert slow.last_seq <= WINDOW, f"{slow.last_seq} frames sent without an acknowledgement"
        assert frames <= WINDOW
        # Acknowledging lets the rest through: the states it missed are coalesced, not lost.
        slow.ws.send(json.dumps({"ack": slow.last_seq}))
        slow.ack = True
        last = configmap(cluster, "after-the-burst")
        slow.until(lambda m: m["type"] == "event" and m["revision"] == last)
        names = {e["name"] for e in slow.events()}
        assert {f"burst-{i}" for i in range(FRAME * WINDOW // 2)} <= names, "no object's state is lost"


def test_the_watches_an_event_reached_are_reported_by_revision(cluster: LiveCluster) -> None:
    import threading

    agent = "kube-controller-manager/v1.36.0 (linux/amd64) kubeviz/tester"
    opened = threading.Event()

    def watch() -> None:
        params = {"watch": "true", "timeoutSeconds": "15", "allowWatchBookmarks": "true"}
        with httpx.stream(
            "GET",
            f"{cluster.server}/api/v1/configmaps",
            params=params,
            headers={"User-Agent": agent},
            timeout=20,
        ) as r:
            opened.set()
            for _ in r.iter_lines():
                pass

    threading.Thread(target=watch, daemon=True).start()
    assert opened.wait(10)
    with browser(cluster) as b:
        b.until(lambda m: m["type"] == "snapshot")
        time.sleep(0.5)
        revision = configmap(cluster, "watched")
        got = b.until(lambda m: m["type"] == "delivered" and m["revision"] == revision)
        assert "kube-controller-manager/tester" in got["watchers"]
