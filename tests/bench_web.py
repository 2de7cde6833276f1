"""``make bench`` (fifth part): what a person's submission costs, beside the requests it stands for.

What runs, as ``make run`` runs it: the embedded Redis and one Daphne serving
``kubeviz.asgi:application`` on a temporary SQLite file (WAL).  The forms' endpoint calls back
into that Daphne's apiserver over HTTP as ``kubeviz-web``, exactly as it does in use.  No
controllers run: ConfigMaps have none, so every figure is the apply path alone.

Scenarios, for a submission of N ConfigMaps (N = 1, 10, 50), each run several times with
fresh names so every document is created:

* ``web apply``      ``POST /api/clusters/<c>/apply``: every document dry-run, then applied
  in order with server-side apply (for each document a GET and a PATCH per pass);
* ``web dry run``    the same with ``dryRun: true``: the check alone, nothing stored;
* ``web re-apply``   the same submission again: every document answers "unchanged".

References, in the same run, against the same apiserver:

* ``direct POST``    the same N ConfigMaps created one after another by one keep-alive client
  straight into ``/k8s/<c>``: the least a client could send to store them;
* ``kubectl apply --server-side`` of the same N documents (the v1.36 binary the tests use), when
  ``var/tools/kubectl`` is there: what the real client does for the same submission, with its
  process start and discovery.

A second pair times ``POST /api/scenarios {"fromCluster"}``, the Share button, on a cluster of
its own holding 50 ConfigMaps, beside one list of those ConfigMaps.  The snapshot reads the
cluster's description and lists each of the ten kinds a scenario carries, so the ratio is the
cost of those lists and of storing the scenario.

Each figure is a whole submission in ms, p50 and p99 by nearest rank, with its ratio to the
direct POSTs of the same N.  Machines are noisy; only the ratios travel.  Nothing here is a
pass/fail test.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.bench import (
    ROOT,
    expect,
    fmt,
    http_client,
    machine_info,
    quantile,
    ratio,
    run_main,
    server_env,
    start_daphne,
    start_redis,
    wait_http,
)
from tests.conftest import free_port

CLUSTER = "bench-web"
SHARE_CLUSTER = "bench-share"
SIZES = {1: 40, 10: 20, 50: 8}  # documents per submission → how many submissions
SHARE_OBJECTS = 50
SHARE_RUNS = 10
KUBECTL = ROOT / "var" / "tools" / "kubectl"


def manifest(prefix: str, n: int) -> str:
    docs = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"{prefix}-{i}"}, "data": {"k": "v"}}
        for i in range(n)
    ]
    return yaml.safe_dump_all(docs)


def timed(fn: Callable[[int], None], runs: int) -> list[float]:
    out = []
    for rep in range(runs):
        t0 = time.perf_counter()
        fn(rep)
        out.append(time.perf_counter() - t0)
    return out


def row(label: str, samples: list[float], ref: list[float] | None) -> str:
    p50, p99 = quantile(samples, 0.5), quantile(samples, 0.99)
    text = f"{label:<50}{len(samples):>5} {fmt(p50, 9, 1)} {fmt(p99, 9, 1)}"
    if ref is not None:
        text += f"   {ratio(p50, quantile(ref, 0.5))} {ratio(p99, quantile(ref, 0.99))}"
    return text


def run(stack: contextlib.ExitStack) -> None:
    begun = time.monotonic()
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kubeviz-bench-web-")))
    print(
        "kubeviz apply-path benchmarks — each figure beside an in-run reference (method: tests/bench_web.py)"
    )
    for text in machine_info()[:2]:
        print(text)
    print()

    redis_url = start_redis(stack, work / "redis")
    env = server_env(
        work / "server", redis_url, f"kubeviz-bench-web-{uuid.uuid4().hex[:8]}", "kubeviz.settings"
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    # The forms' endpoint calls its own server back: it must know its address before it starts.
    port = free_port()
    env["KUBEVIZ_API_URL"] = url = f"http://127.0.0.1:{port}"
    start_daphne(stack, "kubeviz.asgi:application", env, work / "daphne.log", port=port)
    wait_http(url + "/api/clusters")
    with http_client(url) as c:
        expect(
            c.post("/api/clusters", json={"name": CLUSTER, "masters": 1, "workers": 2, "addons": False}), 201
        )
        kubeconfig = work / "kubeconfig"
        kubeconfig.write_text(c.get(f"/api/clusters/{CLUSTER}/kubeconfig").text)
    api = f"{url}/k8s/{CLUSTER}"
    web = stack.enter_context(http_client(url, timeout=120))
    front = web.get("/")  # the page sets the CSRF cookie, as a browser's visit does
    if front.status_code != 200 or "csrftoken" not in web.cookies:
        raise RuntimeError(f"the front page answered {front.status_code} without a CSRF cookie")
    web.headers["X-CSRFToken"] = web.cookies["csrftoken"]
    direct = stack.enter_context(http_client(api))
    expect(direct.get("/version"), 200)
    print(f"setup     Redis and Daphne up, cluster {CLUSTER!r} created ({time.monotonic() - begun:.1f} s)")
    print()

    def submit(text: str, *, dry: bool = False, expect_result: str) -> None:
        body = expect(web.post(f"/api/clusters/{CLUSTER}/apply", json={"yaml": text, "dryRun": dry}), 200)
        results = {d["result"] for d in body["documents"]}
        if results != {expect_result}:
            raise RuntimeError(f"expected every document {expect_result}, got {results}")

    print(
        f"{'scenario (one whole submission)':<50}{'n':>5} {'p50 ms':>9} {'p99 ms':>9}   {'×p50':>8} {'×p99':>8}"
    )
    print("-" * 100)
    for n, runs in SIZES.items():
        tag = f"n{n}"

        def post_all(rep: int, n: int = n, tag: str = tag) -> None:
            for i in range(n):
                expect(direct.post("/api/v1/namespaces/default/configmaps", json={
                    "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"direct-{tag}-{rep}-{i}"},
                    "data": {"k": "v"},
                }), 201)  # fmt: skip

        ref = timed(post_all, runs)
        applied = timed(
            lambda rep, n=n, tag=tag: submit(manifest(f"web-{tag}-{rep}", n), expect_result="created"), runs
        )
        dry = timed(
            lambda rep, n=n, tag=tag: submit(
                manifest(f"dry-{tag}-{rep}", n), dry=True, expect_result="created"
            ),
            runs,
        )
        again = timed(
            lambda rep, n=n, tag=tag: submit(manifest(f"web-{tag}-{rep}", n), expect_result="unchanged"), runs
        )
        print(row(f"web apply, {n} ConfigMap(s)", applied, ref))
        print(row(f"web dry run, {n} ConfigMap(s)", dry, ref))
        print(row(f"web re-apply (unchanged), {n} ConfigMap(s)", again, ref))
        if KUBECTL.exists():
            kube_runs = max(3, runs // 4)

            def kubectl(rep: int, n: int = n, tag: str = tag) -> None:
                subprocess.run(
                    [str(KUBECTL), "--kubeconfig", str(kubeconfig), "apply", "--server-side", "-f", "-"],
                    input=manifest(f"kubectl-{tag}-{rep}", n), text=True, check=True, capture_output=True,
                )  # fmt: skip

            print(row(f"  ref: kubectl apply --server-side, {n}", timed(kubectl, kube_runs), ref))
        print(row(f"  ref: direct POST, {n} ConfigMap(s), one client", ref, None))
        print()

    # The Share button on a cluster of its own, holding exactly the objects a person made.
    with http_client(url) as c:
        expect(
            c.post(
                "/api/clusters", json={"name": SHARE_CLUSTER, "masters": 1, "workers": 2, "addons": False}
            ),
            201,
        )
    with http_client(f"{url}/k8s/{SHARE_CLUSTER}") as c:
        for i in range(SHARE_OBJECTS):
            expect(
                c.post(
                    "/api/v1/namespaces/default/configmaps",
                    json={"metadata": {"name": f"s-{i}"}, "data": {"k": "v"}},
                ),
                201,
            )
        listing = timed(
            lambda rep: expect(c.get("/api/v1/namespaces/default/configmaps"), 200) and None, SHARE_RUNS * 3
        )

    def share(rep: int) -> None:
        body = expect(web.post("/api/scenarios", json={"fromCluster": SHARE_CLUSTER}), 201)
        if not body.get("slug"):
            raise RuntimeError(f"no slug in {body}")

    print(
        row(
            f"share: snapshot of a cluster holding {SHARE_OBJECTS} ConfigMaps",
            timed(share, SHARE_RUNS),
            listing,
        )
    )
    print(row(f"  ref: list those {SHARE_OBJECTS} ConfigMaps", listing, None))
    print()
    load1, load5, _ = os.getloadavg()
    print(
        f"total     {time.monotonic() - begun:.0f} s; load avg now {load1:.2f} / {load5:.2f} (other work skews every row)"
    )


if __name__ == "__main__":
    sys.exit(run_main(run))
