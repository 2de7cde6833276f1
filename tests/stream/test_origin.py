"""Which websocket handshakes may open a stream."""

from __future__ import annotations

import pytest

from kubeviz.stream.origin import origin_allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "127.0.0.1:8000", True),  # not a browser page
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://kubeviz.example", "kubeviz.example", True),
        ("http://kubeviz.example", "kubeviz.example:80", True),
        ("https://kubeviz.example", "kubeviz.example:443", True),
        ("http://evil.example", "127.0.0.1:8000", False),
        ("http://127.0.0.1:9000", "127.0.0.1:8000", False),  # another port is another site
        ("https://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("null", "127.0.0.1:8000", False),  # a sandboxed or file page
        ("http://127.0.0.1:8000", None, False),
    ],
)
def test_only_this_sites_pages_may_open_a_stream(origin, host, allowed) -> None:
    assert origin_allowed(origin, host) is allowed


def test_listed_origins_are_allowed(settings) -> None:
    settings.KUBEVIZ_ALLOWED_ORIGINS = ["https://dashboard.example"]
    assert origin_allowed("https://dashboard.example", "127.0.0.1:8000")
    assert not origin_allowed("https://other.example", "127.0.0.1:8000")
