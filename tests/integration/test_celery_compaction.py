"""A real Celery worker runs kube-apiserver's compaction; watches from before it get 410."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import httpx
import pytest

from tests.conftest import ROOT, LiveCluster, LiveServer

pytestmark = pytest.mark.live


def _watch_first_line(server: str, rv: str) -> dict:
    with httpx.stream(
        "GET",
        f"{server}/api/v1/namespaces/default/configmaps",
        params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "2"},
        timeout=10,
    ) as r:
        for line in r.iter_lines():
            if line:
                return json.loads(line)
    return {}


def test_worker_compacts_and_old_watches_expire(
    kubeviz_server: LiveServer, cluster: LiveCluster, redis_url: str
) -> None:
    h = httpx.Client(base_url=cluster.server, timeout=10)
    old_rv = h.get("/api/v1/namespaces/default/configmaps").json()["metadata"]["resourceVersion"]
    for i in range(3):
        h.post("/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"c{i}"}})
    page = h.get("/api/v1/namespaces/default/configmaps?limit=1").json()
    h.post(
        "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "c3"}}
    )  # moves past the page's snapshot
    assert _watch_first_line(cluster.server, old_rv)["type"] == "ADDED", (
        "history is still there before compaction"
    )

    env = dict(kubeviz_server.env, KUBEVIZ_COMPACTION_WINDOW="0")
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "kubeviz",
            "worker",
            "--pool=solo",
            "--loglevel=WARNING",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        from kubeviz.celery import app

        app.conf.broker_url = redis_url
        app.send_task("kubeviz.apiserver.tasks.compact")
        deadline = time.monotonic() + 60
        first: dict = {}
        while time.monotonic() < deadline:
            first = _watch_first_line(cluster.server, old_rv)
            if first.get("type") == "ERROR":
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=20)
    assert (
        first["type"] == "ERROR" and first["object"]["code"] == 410 and first["object"]["reason"] == "Expired"
    )
    stale = h.get(f"/api/v1/namespaces/default/configmaps?limit=1&continue={page['metadata']['continue']}")
    assert stale.status_code == 410 and stale.json()["reason"] == "Expired"
    # Current state is untouched by compaction.
    assert sorted(
        o["metadata"]["name"] for o in h.get("/api/v1/namespaces/default/configmaps").json()["items"]
    ) == ["c0", "c1", "c2", "c3"]
