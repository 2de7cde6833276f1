"""Websocket routes of the browser stream; the HTTP watch is the only stream served so far."""

from typing import Any

websocket_urlpatterns: list[Any] = []
