"""Websocket routes: one stream per cluster, at the path the explorer API gives as ``websocket``."""

from typing import Any

from django.urls import re_path

from kubeviz.stream.consumers import ClusterStream

websocket_urlpatterns: list[Any] = [
    re_path(r"^ws/clusters/(?P<name>[a-z0-9]([-a-z0-9]*[a-z0-9])?)/$", ClusterStream.as_asgi()),
]
