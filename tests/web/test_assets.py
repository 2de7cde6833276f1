"""Every page gets the stylesheets its script needs, including those Vite moved into shared chunks."""

from __future__ import annotations

import re

import httpx
import pytest

from kubeviz.web.assets import resolve
from tests.conftest import LiveCluster, LiveServer

#: The shape Vite gives a build with two entries that share a module carrying CSS.
SHARED = {
    "_rt.js": {"file": "assets/rt.js"},
    "_story.js": {"file": "assets/story.js", "imports": ["_rt.js"], "css": ["assets/story.css"]},
    "_lib.js": {"file": "assets/lib.js", "imports": ["_rt.js"], "css": ["assets/lib.css"]},
    "src/main.ts": {
        "file": "assets/main.js",
        "isEntry": True,
        "imports": ["_story.js", "_lib.js"],
        "css": ["assets/main.css"],
    },
    "src/scenario.ts": {"file": "assets/scenario.js", "isEntry": True, "imports": ["_story.js"]},
}


def test_an_entry_carries_the_styles_of_the_chunks_it_imports() -> None:
    main = resolve(SHARED, "src/main.ts")
    assert main.script == "assets/main.js"
    assert main.styles == ("assets/story.css", "assets/lib.css", "assets/main.css")
    assert main.preloads == ("assets/rt.js", "assets/story.js", "assets/lib.js")
    scenario = resolve(SHARED, "src/scenario.ts")
    assert scenario.styles == ("assets/story.css",)
    assert scenario.preloads == ("assets/rt.js", "assets/story.js")


def test_a_cycle_of_imports_ends() -> None:
    looped = {
        "a": {"file": "a.js", "imports": ["b"], "css": ["a.css"]},
        "b": {"file": "b.js", "imports": ["a"], "css": ["b.css"]},
    }
    assert resolve(looped, "a").styles == ("b.css", "a.css")


def _stylesheets(html: str) -> list[str]:
    return re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)


@pytest.mark.live
def test_the_served_pages_link_the_house_stylesheet(kubeviz_server: LiveServer, cluster: LiveCluster) -> None:
    with httpx.Client(base_url=kubeviz_server.url, timeout=30) as web:
        for path in (f"/clusters/{cluster.name}/", "/s/deployment-journey"):
            page = web.get(path)
            assert page.status_code == 200, path
            css = "".join(web.get(href).text for href in _stylesheets(page.text))
            # The canvas page's header rule, which the buttons and the layout depend on.
            assert re.search(r"header\s*\{[^}]*display:\s*flex", css), (path, _stylesheets(page.text))


@pytest.mark.live
def test_an_unknown_scenario_link_is_a_404_page_that_says_so(kubeviz_server: LiveServer) -> None:
    with httpx.Client(base_url=kubeviz_server.url, timeout=30) as web:
        page = web.get("/s/%3Cb%3Enope")
        assert page.status_code == 404
        assert "There is no scenario" in page.text
        assert "<b>nope" not in page.text and "&lt;b&gt;nope" in page.text
        assert _stylesheets(page.text), "the page is styled like the others"
        assert web.get("/s/deployment-journey").status_code == 200
