"""The canvas in a real browser: Debian's Chromium driven by Playwright, against real processes.

The page exposes ``window.kubeviz.scene()``, a read-only list of what it has drawn, so these
tests assert on the drawing's content, not on pixels.  A screenshot is kept for the record in
``var/e2e/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import RECORD
from tests.machines.conftest import Cluster, Stack, open_cluster, until
from tests.machines.test_nodes import apply, booted, web


@pytest.fixture(scope="module")
def canvas(stack: Stack) -> Cluster:
    return booted(stack, "canvas")


def test_the_page_draws_the_architecture(stack: Stack, canvas: Cluster, page: Any) -> None:
    open_cluster(page, canvas)
    drawn = until(page, "system pods drawn", lambda s: len(s["pods"]) >= 5 and s)
    # The house stylesheet is applied: the header is one bar and the canvas sits beside the panel.
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"
    comps = {(c["machine"], c["name"]) for c in drawn["components"]}
    for name in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert ("master-1", name) in comps
    for machine in ("master-1", "worker-1", "worker-2"):
        for name in ("kubelet", "kube-proxy", "flanneld", "containerd", "cni"):
            assert (machine, name) in comps
    assert {m for m, n in comps if n == "coredns"} <= {"worker-1", "worker-2"}
    assert {m["name"]: m["role"] for m in drawn["machines"]} == {
        "master-1": "master", "worker-1": "worker", "worker-2": "worker",
    }  # fmt: skip
    # The static pods sit inside the master, every pod inside a machine that exists.
    assert {p["name"] for p in drawn["pods"] if p["node"] == "master-1"} >= {
        "etcd-master-1", "kube-apiserver-master-1", "kube-controller-manager-master-1", "kube-scheduler-master-1",
    }  # fmt: skip
    # The page tells screen readers the same thing, as a list.
    page.click("#list-view summary")
    page.wait_for_selector("#list button[data-id='machine:worker-1']")
    assert "kube-apiserver: running" in page.inner_text("#list")


def test_a_deployment_is_drawn_as_it_happens(stack: Stack, canvas: Cluster, page: Any) -> None:
    open_cluster(page, canvas)
    before = page.evaluate("window.kubeviz.hops()")
    apply(canvas, web("shop", 3))
    drawn = until(
        page,
        "3 Running shop pods drawn on the workers",
        lambda s: (
            len(p := [x for x in s["pods"] if x["name"].startswith("shop-") and x["phase"] == "Running"]) == 3
            and p
        ),
    )
    assert {p["node"] for p in drawn} <= {"worker-1", "worker-2"}
    hops = page.evaluate("window.kubeviz.hops()")
    # Requests into kube-apiserver, writes into etcd, watch events out, and work inside nodes.
    for style in ("request", "write", "watch", "local"):
        assert hops.get(style, 0) > before.get(style, 0), (style, before, hops)
    # kube-scheduler's panel shows its latest decisions, as they came down the stream.
    page.evaluate("location.hash = '#sel=component:master-1/kube-scheduler'")
    page.wait_for_function(
        "document.querySelector('#inspector')?.textContent.includes('Last decision: default/shop-')"
    )
    assert "nodes evaluated" in page.inner_text("#inspector")
    # kube-controller-manager's panel shows each loop's queue and its last reconcile here.
    page.evaluate("location.hash = '#sel=component:master-1/kube-controller-manager'")
    page.wait_for_selector("#inspector table.loops tr[data-controller='replicaset']", timeout=20_000)
    assert "synced" in page.inner_text("#inspector tr[data-controller='deployment']")
    loops = canvas.api("GET", "/controllers").json()
    assert loops["items"][0].keys() >= {"name", "depth", "processing", "lastReconcile"}
    assert {"active", "backoff", "unschedulable", "inFlight"} <= loops["scheduler"].keys()
    RECORD.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RECORD / "canvas-deployment.png"))


def _click_item(pg: Any, item: dict[str, Any]) -> None:
    point = pg.evaluate(f"window.kubeviz.toScreen({item['x'] + 6}, {item['y'] + 6})")
    pg.mouse.click(point["x"], point["y"])


def test_clicking_a_pod_opens_its_panel_and_the_url_reopens_the_same_view(
    stack: Stack, canvas: Cluster, page: Any
) -> None:
    apply(canvas, web("inspect", 1))
    open_cluster(page, canvas)
    pod = until(
        page,
        "the inspect pod drawn",
        lambda s: next((p for p in s["pods"] if p["name"].startswith("inspect-")), None),
    )
    _click_item(page, pod)
    page.wait_for_function(
        "document.querySelector('#inspector h2')?.textContent.includes('Pod default/inspect-')",
        timeout=20_000,
    )
    page.wait_for_function(
        "document.querySelector('#inspector pre.yaml')?.textContent.includes('kind: Pod')", timeout=30_000
    )
    assert page.evaluate("window.kubeviz.view().selected") == f"pod:default/{pod['name']}"
    page.click("#zoom-in")
    url, view = page.url, page.evaluate("window.kubeviz.view()")
    assert "sel=" in url and "z=" in url
    # A teammate pasting the URL sees the same selection, zoom and panel.
    page.goto("about:blank")
    page.goto(url)
    page.wait_for_function("window.kubeviz && window.kubeviz.scene().pods.length > 0", timeout=60_000)
    page.wait_for_function(
        "document.querySelector('#inspector h2')?.textContent.includes('Pod default/inspect-')",
        timeout=30_000,
    )
    assert page.evaluate("window.kubeviz.view()") == view


def test_names_and_fields_are_shown_as_text_never_run(stack: Stack, canvas: Cluster, page: Any) -> None:
    hostile = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    doc = web("escape", 1)
    doc["spec"]["template"]["metadata"]["annotations"] = {"note": hostile}
    apply(canvas, doc)
    open_cluster(page, canvas)
    pod = until(
        page,
        "the escape pod drawn",
        lambda s: next((p for p in s["pods"] if p["name"].startswith("escape-")), None),
    )
    page.goto(f"{canvas.base}/clusters/{canvas.name}/#sel=pod:default/{pod['name']}")
    page.wait_for_function(
        "document.querySelector('#inspector pre.yaml')?.textContent.includes('onerror')", timeout=30_000
    )
    assert page.evaluate("window.pwned") is None
    # Shown as the characters it holds (YAML-quoted), not as markup.
    assert "<script>window.pwned=2</script>" in page.inner_text("#inspector pre.yaml")
    assert page.locator("#inspector script, #inspector img").count() == 0


def test_the_keyboard_reaches_every_item_through_the_list(stack: Stack, canvas: Cluster, page: Any) -> None:
    open_cluster(page, canvas)
    page.focus("#list-view summary")
    page.keyboard.press("Enter")
    page.wait_for_selector("#list button[data-id='component:master-1/kube-scheduler']")
    page.focus("#list button[data-id='component:master-1/kube-scheduler']")
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelector('#inspector h2')?.textContent === 'kube-scheduler on master-1'"
    )
    assert "Chooses a node" in page.inner_text("#inspector")
    page.keyboard.press("Escape")  # focus is on a button, not a field: Esc clears the selection
    page.wait_for_function("window.kubeviz.view().selected === ''")


def test_stopping_a_worker_turns_its_node_not_ready(stack: Stack, canvas: Cluster, page: Any) -> None:
    open_cluster(page, canvas, "#sel=machine:worker-2")
    page.wait_for_selector("#inspector button[data-action='power']")
    assert page.inner_text("#inspector button[data-action='power']") == "Power off"
    page.click("#inspector button[data-action='power']")
    drawn = until(
        page,
        "worker-2 drawn powered off and NotReady",
        lambda s: next(
            (
                m
                for m in s["machines"]
                if m["name"] == "worker-2" and m["ready"] is False and not m["running"]
            ),
            None,
        ),
        timeout=120,
    )
    assert drawn["status"] == "powered off, NotReady"
    RECORD.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(RECORD / "canvas-worker-down.png"))
