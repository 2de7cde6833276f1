"""Websockets from another site are refused.

A browser sends ``Origin`` with every websocket handshake, and cookies or not, a page on
another site must not open a stream of this cluster.  Allowed: no ``Origin`` at all (a
script or a test client, which no browser page can pretend to be), an ``Origin`` whose
host and port are the ``Host`` the handshake was sent to (the page this server served), or
one listed in ``KUBEVIZ_ALLOWED_ORIGINS``.  Anything else is closed before it is accepted,
which the browser sees as a failed handshake (HTTP 403).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings


def _header(scope: dict[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def origin_allowed(origin: str | None, host: str | None) -> bool:
    if origin is None:
        return True
    allowed = getattr(settings, "KUBEVIZ_ALLOWED_ORIGINS", [])
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or host is None:
        return False
    default = "443" if parts.scheme == "https" else "80"
    origin_host = parts.netloc if ":" in parts.netloc.rsplit("]", 1)[-1] else f"{parts.netloc}:{default}"
    request_host = host if ":" in host.rsplit("]", 1)[-1] else f"{host}:{default}"
    return origin_host.lower() == request_host.lower()


class SameOriginValidator:
    """ASGI middleware: pass a websocket on only if its Origin is this site's."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not origin_allowed(
            _header(scope, b"origin"), _header(scope, b"host")
        ):
            message = await receive()  # websocket.connect
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.close", "code": 4403})
            return None
        return await self.app(scope, receive, send)
