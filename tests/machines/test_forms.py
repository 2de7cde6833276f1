"""Forms, the editor, sharing and live links in a real browser, against real processes.

Debian's Chromium through Playwright, on a cluster of their own.  What the forms send goes
through the Kubernetes API as kubeviz-web, so pods appear on the canvas the same way
kubectl's do.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser import RECORD
from tests.machines.conftest import Cluster, Stack, open_cluster, scene, until, wait
from tests.machines.test_nodes import apply, booted, web


@pytest.fixture(scope="module")
def canvas(stack: Stack) -> Cluster:
    return booted(stack, "forms")


def exists(c: Cluster, path: str) -> bool:
    return httpx.get(f"{c.base}/k8s/{c.name}{path}", timeout=10).status_code == 200


def open_form(pg: Any, kind: str = "Deployment") -> None:
    pg.click("#open-create")
    pg.click(f'#create-dialog [data-tab="{kind}"]')
    pg.wait_for_selector("#field-name")


def test_the_deployment_form_draws_its_pods(stack: Stack, canvas: Cluster, page: Any) -> None:
    open_cluster(page, canvas)
    open_form(page)
    page.fill("#field-name", "formweb")
    page.fill("#field-replicas", "2")
    assert "name: formweb" in page.text_content(".preview")  # the live YAML preview
    page.click("#dry-run")
    page.wait_for_selector(".apply-result .ok")
    assert not exists(canvas, "/apis/apps/v1/namespaces/default/deployments/formweb"), (
        "a dry run writes nothing"
    )
    page.click("#apply")
    page.wait_for_selector(".apply-result .ok")
    drawn = until(
        page,
        "2 Running formweb pods",
        lambda s: (
            (r := [p for p in s["pods"] if p["name"].startswith("formweb-") and p["phase"] == "Running"])
            and len(r) == 2
            and r
        ),
        timeout=120,
    )
    assert len(drawn) == 2 and all(p["node"].startswith("worker-") for p in drawn)
    page.keyboard.press("Escape")
    page.screenshot(path=str(RECORD / "form-deployment.png"))
    requests = httpx.get(f"{canvas.base}/api/clusters/{canvas.name}/requests?limit=500", timeout=10).json()[
        "items"
    ]
    assert any(r["component"] == "kubeviz-web" and r["name"] == "formweb" for r in requests)


def test_bad_manifests_show_a_clear_error_and_create_nothing(
    stack: Stack, canvas: Cluster, page: Any
) -> None:
    open_cluster(page, canvas)
    open_form(page)
    page.fill("#field-name", "Bad_Name")
    page.click("#apply")
    err = page.wait_for_selector("#field-name ~ .field-error, .field-error")
    assert "lowercase" in err.text_content() or "RFC 1123" in err.text_content()
    assert page.get_attribute("#field-name", "aria-invalid") == "true"
    assert "nothing was applied" in page.text_content(".apply-result")

    page.fill("#field-name", "noimage")
    page.fill("#field-image", "")
    page.click("#apply")
    page.wait_for_selector(".apply-result .error")
    assert page.get_attribute("#field-image", "aria-invalid") == "true"
    assert "Required" in page.text_content(".apply-result") or "Required" in page.text_content(".kv-form")

    page.click('#create-dialog [data-tab="YAML"]')
    page.wait_for_selector(".cm-content")
    big = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: huge\ndata:\n  blob: "
        + "x" * (4 * 1024 * 1024)
        + "\n"
    )
    page.locator(".cm-content").fill(big)
    page.click("#apply")
    page.wait_for_selector(".apply-result .error", timeout=60_000)
    assert "3 MiB" in page.text_content(".apply-result")
    for path in (
        "/api/v1/namespaces/default/configmaps/huge",
        "/apis/apps/v1/namespaces/default/deployments/noimage",
    ):
        assert not exists(canvas, path)
    assert not [
        n
        for n in httpx.get(f"{canvas.base}/k8s/{canvas.name}/apis/apps/v1/deployments", timeout=10).json()[
            "items"
        ]
        if n["metadata"]["name"].lower().startswith("bad")
    ]
    page.screenshot(path=str(RECORD / "form-errors.png"))


def test_a_shared_scenario_opens_the_same_objects_in_another_browser(
    stack: Stack, canvas: Cluster, page: Any, browser: Any
) -> None:
    open_cluster(page, canvas)
    page.click("#open-share")
    page.click("#share-scenario")
    url = page.wait_for_selector("#scenario-url").input_value()
    assert "/s/" in url
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        pg = other.new_page()
        pg.goto(url)
        pg.wait_for_url("**/clusters/s-*/", timeout=60_000)
        pg.wait_for_function("window.kubeviz && window.kubeviz.scene().machines.length === 3", timeout=60_000)
        ours = {
            d["metadata"]["name"]
            for d in httpx.get(
                f"{canvas.base}/k8s/{canvas.name}/apis/apps/v1/namespaces/default/deployments", timeout=10
            ).json()["items"]
        }
        launched = pg.url.rstrip("/").rsplit("/", 1)[1]
        wait(lambda: {d["metadata"]["name"] for d in httpx.get(f"{canvas.base}/k8s/{launched}/apis/apps/v1/namespaces/default/deployments", timeout=10).json()["items"]} == ours,
             timeout=60, what="the same Deployments in the launched cluster", stack=stack)  # fmt: skip
        assert ours, "the shared cluster had workloads"
        first = sorted(ours)[0]
        wait(
            lambda: [p for p in scene(pg)["pods"] if p["name"].startswith(f"{first}-")],
            timeout=120,
            what="its pods drawn",
            stack=stack,
        )
        pg.screenshot(path=str(RECORD / "shared-scenario.png"))
        httpx.delete(f"{canvas.base}/api/clusters/{launched}", timeout=60)
    finally:
        other.close()


def test_a_view_only_link_cannot_change_anything(
    stack: Stack, canvas: Cluster, page: Any, browser: Any
) -> None:
    open_cluster(page, canvas)
    page.click("#open-share")
    page.click("#share-view")
    url = page.wait_for_selector("#view-url").input_value()
    other = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        pg = other.new_page()
        pg.goto(url)
        pg.wait_for_function("window.kubeviz && window.kubeviz.scene().machines.length === 3", timeout=60_000)
        assert pg.is_visible("#mode-badge") and pg.query_selector("#open-create") is None
        assert canvas.name not in pg.content()
        pg.wait_for_function(
            "document.querySelector('#workloads').textContent.includes('View only')", timeout=30_000
        )
        token = url.rstrip("/").rsplit("/", 1)[1]
        answers = pg.evaluate(
            """async (token) => {
                const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
                const h = {"Content-Type": "application/json", "X-CSRFToken": csrf};
                const cm = {apiVersion: "v1", kind: "ConfigMap", metadata: {name: "sneaky"}};
                const a = await fetch(`/api/clusters/${token}/apply`, {method: "POST", headers: h, body: JSON.stringify({yaml: "apiVersion: v1\\nkind: ConfigMap\\nmetadata: {name: sneaky}\\n"})});
                const b = await fetch(`/k8s/${token}/api/v1/namespaces/default/configmaps`, {method: "POST", headers: h, body: JSON.stringify(cm)});
                const c = await fetch(`/api/clusters/${token}/machines/worker-1`, {method: "PATCH", headers: h, body: JSON.stringify({running: false})});
                return [a.status, b.status, c.status];
            }""",
            token,
        )
        assert answers == [403, 403, 403]
        assert not exists(canvas, "/api/v1/namespaces/default/configmaps/sneaky")
        assert canvas.machines()["worker-1"]["running"] is True
        pg.screenshot(path=str(RECORD / "view-only.png"))
    finally:
        other.close()


def _running(pg: Any, prefix: str) -> list[dict[str, Any]]:
    return [p for p in scene(pg)["pods"] if p["name"].startswith(prefix) and p["phase"] == "Running"]


def test_the_workloads_list_scales_edits_and_deletes(stack: Stack, canvas: Cluster, page: Any) -> None:
    apply(canvas, web("acts", 1))
    open_cluster(page, canvas)
    box = "#workloads [data-object='Deployment/default/acts']"
    page.wait_for_selector(box, timeout=60_000)
    # Scale: the Deployment's replicas change, and the new pods are drawn as they start.
    page.fill(f"{box} [data-action=replicas]", "3")
    page.click(f"{box} [data-action=scale]")
    page.wait_for_selector(f"{box} .action-result.ok", timeout=30_000)
    wait(
        lambda: len(_running(page, "acts-")) == 3, timeout=120, what="3 acts pods drawn Running", stack=stack
    )
    # Edit opens the object as the server has it; sending it back unchanged changes nothing.
    page.click(f"{box} [data-action=edit]")
    page.wait_for_function(
        "document.querySelector('#create-dialog .cm-content')?.textContent.includes('replicas: 3')",
        timeout=20_000,
    )
    page.click("#create-dialog #apply")
    page.wait_for_selector("#create-dialog .outcome.unchanged", timeout=30_000)
    page.keyboard.press("Escape")
    # Delete, pods first: the Deployment goes once what it owns is gone, and so do its pods.
    page.select_option(f"{box} [data-action=propagation]", "Foreground")
    page.once("dialog", lambda d: d.accept())
    page.click(f"{box} [data-action=delete]")
    page.wait_for_selector(f"{box} .action-result.ok", timeout=30_000)
    deployment = f"{canvas.base}/k8s/{canvas.name}/apis/apps/v1/namespaces/default/deployments/acts"
    wait(
        lambda: (
            httpx.get(deployment, timeout=10).status_code == 404
            and not [p for p in scene(page)["pods"] if p["name"].startswith("acts-")]
        ),
        timeout=120,
        what="the Deployment and its pods gone from the API and the canvas",
        stack=stack,
    )
    page.wait_for_selector(box, state="detached", timeout=30_000)


STEPS = """
apiVersion: kubeviz.io/v1
kind: Scenario
metadata: {name: marked-steps}
spec:
  title: Two marked steps
  topology: {masters: 1, workers: 2, speed: 10}
  steps:
  - {at: 0, note: "the story waits for the viewer", pause: true}
  - {at: 1, note: "a map called first is written", apply: [{apiVersion: v1, kind: ConfigMap, metadata: {name: first}, data: {k: v}}]}
  - {at: 3, note: "a map called second is written", apply: [{apiVersion: v1, kind: ConfigMap, metadata: {name: second}, data: {k: v}}]}
"""


def test_scenario_steps_are_marked_on_the_timeline_and_replay(stack: Stack, page: Any) -> None:
    made = httpx.post(f"{stack.server.url}/api/scenarios", json={"yaml": STEPS}, timeout=30)
    assert made.status_code == 201, made.text
    launched = httpx.post(
        f"{stack.server.url}/api/scenarios/{made.json()['slug']}/launch", json={}, timeout=60
    )
    assert launched.status_code == 201, launched.text
    name = launched.json()["cluster"]
    try:
        page.goto(f"{stack.server.url}/clusters/{name}/")
        page.wait_for_function(
            "window.kubeviz && window.kubeviz.scene().machines.length === 3", timeout=60_000
        )
        # The story waits until the viewer continues, so the page sees every step arrive.
        page.click("#story-continue", timeout=60_000)
        # Each step's Event comes down the stream; the page marks where it happened.
        page.wait_for_selector(
            "#timeline-marks .mark[title='a map called second is written']", timeout=90_000
        )
        titles = page.eval_on_selector_all("#timeline-marks .mark", "ms => ms.map(m => m.title)")
        assert titles.index("a map called first is written") < titles.index("a map called second is written")
        assert page.evaluate("window.kubeviz.player().speed") == "live"
        # Once the story panel has announced the last step, no live note will cover the replay's.
        page.wait_for_selector("#story li.done:has-text('a map called second is written')", timeout=30_000)
        page.click("#timeline-marks .mark[title='a map called first is written']")
        # The page goes back to just before the step and plays on from there, with its note.
        assert page.evaluate("window.kubeviz.player().speed") != "live"
        assert page.text_content("#note-toast") == "a map called first is written"
        assert int(page.input_value("#timeline")) < 1000
        page.screenshot(path=str(RECORD / "scenario-marks.png"))
    finally:
        httpx.delete(f"{stack.server.url}/api/clusters/{name}", timeout=60)
