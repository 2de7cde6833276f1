"""Live links: a token that stands for a running cluster, view-only or editable.

A live link is ``/clusters/live-<token>/``.  Wherever a cluster's name goes in a path (the page,
``/k8s/<name>/``, ``/api/clusters/<name>/``, ``/ws/clusters/<name>/``) the token can go instead.
This middleware puts the cluster's name in its place before the request is routed, so every
view serves it unchanged, and remembers the link on the request (``request.kubeviz_link``) so a
page or an answer can keep using the token rather than the name.

A view-only link may read everything and change nothing: any method other than GET, HEAD or
OPTIONS is refused with 403 before it reaches a view, for the Kubernetes API (kubectl with the
link's kubeconfig), the explorer API and the forms alike.  A token that opens no cluster
answers 404.

It also notes when a person (not one of the cluster's own components) used a cluster, for the
idle clean-up of launched clusters.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse

from kubeviz.scenarios.models import LiveLink
from kubeviz.web import activity
from kubeviz.web.apis import status

#: 130 random bits as 26 lowercase base32 letters: a valid DNS label, like a cluster name.
TOKEN = r"live-[a-z2-7]{26}"
_LINKED = re.compile(rf"^/(?:k8s|api/clusters|clusters|ws/clusters)/(?P<token>{TOKEN})(?=/|$)")
_API = re.compile(r"^/k8s/(?P<cluster>[^/]+)/")
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
#: The first User-Agent token of the cluster's own components: their requests are not a person's.
SYSTEM = re.compile(
    r"^(kube-[a-z-]+|kubelet|coredns|flanneld|calico-felix|cilium-agent|kubeviz-(?!web)[a-z-]+)$"
)
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Link:
    token: str
    cluster: str
    mode: str


_cache: dict[str, tuple[float, Link | None]] = {}


def find(token: str) -> Link | None:
    """Return the live link behind ``token`` (cached briefly), or None."""
    now = time.monotonic()
    hit = _cache.get(token)
    if hit and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    row = LiveLink.objects.filter(token=token).values_list("cluster", "mode").first()
    link = Link(token, row[0], row[1]) if row else None
    _cache[token] = (now, link)
    return link


def forget(cluster: str) -> None:
    """Drop cached links of a cluster that is gone."""
    for token, (_, link) in list(_cache.items()):
        if link is not None and link.cluster == cluster:
            _cache.pop(token, None)


def refusal(link: Link | None, method: str, path: str) -> HttpResponse | None:
    """Return the answer to a request a link does not allow, or None when it may go on."""
    if link is None:
        return status(
            404, "NotFound",
            "this link opens no cluster: it was mistyped, or the cluster it opened has been removed",
        )  # fmt: skip
    if link.mode == LiveLink.VIEW and method not in SAFE:
        return status(
            403, "Forbidden",
            f"this is a view-only link: it can watch the cluster but not change it ({method} {path} refused); "
            "ask whoever shared it for an editable link",
            kind="clusters",
        )  # fmt: skip
    return None


def _rewrite(request: HttpRequest, link: Link) -> None:
    request.path_info = request.path_info.replace(link.token, link.cluster, 1)
    request.path = request.path.replace(link.token, link.cluster, 1)
    request.kubeviz_link = link  # type: ignore[attr-defined]


def _note_person(request: HttpRequest) -> None:
    match = _API.match(request.path_info)
    if match and not SYSTEM.match(request.headers.get("User-Agent", "").split("/", 1)[0]):
        activity.touch(match["cluster"])


def live_links(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Resolve live-link tokens in paths and refuse what a view-only link may not do."""

    async def middleware(request: HttpRequest) -> HttpResponse:
        match = _LINKED.match(request.path_info)
        if match:
            link = await sync_to_async(find, thread_sensitive=False)(match["token"])
            refused = refusal(link, request.method or "GET", request.path_info)
            if refused is not None:
                return refused
            assert link is not None
            _rewrite(request, link)
        _note_person(request)
        return await get_response(request)

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        match = _LINKED.match(request.path_info)
        if match:
            link = find(match["token"])
            refused = refusal(link, request.method or "GET", request.path_info)
            if refused is not None:
                return refused
            assert link is not None
            _rewrite(request, link)
        _note_person(request)
        return get_response(request)

    if iscoroutinefunction(get_response):
        markcoroutinefunction(middleware)
        return middleware
    return sync_middleware


live_links.sync_capable = True  # type: ignore[attr-defined]
live_links.async_capable = True  # type: ignore[attr-defined]


class LiveLinkWebsocket:
    """The same for the browser's stream: a token in ``/ws/clusters/<token>/`` opens its cluster."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        match = _LINKED.match(scope.get("path", ""))
        if match:
            link = await sync_to_async(find, thread_sensitive=False)(match["token"])
            if link is None:
                await send({"type": "websocket.close", "code": 4004})
                return None
            scope = {
                **scope,
                "path": scope["path"].replace(link.token, link.cluster, 1),
                "kubeviz_link": link,
            }
        return await self.inner(scope, receive, send)
