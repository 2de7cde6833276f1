"""Every built-in scenario launches on real processes and reaches the end state it states.

Launched through the API as a viewer would, played by Celery beat and a worker, checked by
the story endpoint's own expectations.  Four at a time, to fit two cores.
"""

from __future__ import annotations

import httpx
import pytest

from kubeviz.scenarios import document, library
from tests.machines.conftest import Stack, wait

SLUGS = [document.parse(p.read_text())["metadata"]["name"] for p in library.files()]
BATCH = 4


@pytest.mark.parametrize("batch", range(0, len(SLUGS), BATCH), ids=lambda i: "+".join(SLUGS[i : i + BATCH]))
def test_builtin_scenarios_reach_their_end_state(stack: Stack, batch: int) -> None:
    base = stack.server.url
    launched = {}
    for slug in SLUGS[batch : batch + BATCH]:
        resp = httpx.post(f"{base}/api/scenarios/{slug}/launch", json={}, timeout=60)
        assert resp.status_code == 201, resp.text
        launched[slug] = resp.json()["cluster"]
    try:
        for slug, cluster in launched.items():

            def reached(cluster: str = cluster) -> dict | None:  # type: ignore[type-arg]
                story = httpx.get(f"{base}/api/clusters/{cluster}/story", timeout=30).json()
                assert all(s["ok"] is not False for s in story["steps"]), story["steps"]
                return story if story.get("reached") else None

            story = wait(
                reached, timeout=300, interval=2, what=f"scenario {slug} to reach its end state", stack=stack
            )
            assert story["finished"] and all(e["ok"] for e in story["expect"])
    finally:
        for cluster in launched.values():
            httpx.delete(f"{base}/api/clusters/{cluster}", timeout=60)
