"""Response headers every page and API answer carries, without a thread hop.

Django's own SecurityMiddleware and CommonMiddleware are sync middleware: under ASGI each
one costs two hops between the event loop and a worker thread per request, which was most
of an apiserver request's time.  This middleware runs natively in both modes and sets the
headers we relied on them for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest, HttpResponse

HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def _stamp(response: HttpResponse) -> HttpResponse:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def security_headers(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Add the standard protective headers to every response."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            response = await get_response(request)
            return _stamp(response)

        markcoroutinefunction(middleware)
        return middleware

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        return _stamp(get_response(request))

    return sync_middleware


security_headers.sync_capable = True  # type: ignore[attr-defined]
security_headers.async_capable = True  # type: ignore[attr-defined]


def static_files(get_response: Callable[[HttpRequest], Any]) -> Any:
    """Serve the built front end under ``STATIC_URL`` with whitenoise; pass everything else on.

    Whitenoise's own middleware is sync-only and would put every API request through a thread
    hop; here only static paths reach it.  Its lookup is an in-memory table built at startup.
    """
    from django.conf import settings
    from whitenoise.middleware import WhiteNoiseMiddleware

    static = WhiteNoiseMiddleware(get_response)
    prefix = settings.STATIC_URL

    def serve(request: HttpRequest) -> HttpResponse | None:
        if not request.path_info.startswith(prefix):
            return None
        found = (
            static.find_file(request.path_info) if static.autorefresh else static.files.get(request.path_info)
        )
        return None if found is None else static.serve(found, request)

    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponse:
            return serve(request) or await get_response(request)

        markcoroutinefunction(middleware)
        return middleware

    def sync_middleware(request: HttpRequest) -> HttpResponse:
        return serve(request) or get_response(request)

    return sync_middleware


static_files.sync_capable = True  # type: ignore[attr-defined]
static_files.async_capable = True  # type: ignore[attr-defined]

__all__ = ["security_headers", "static_files"]
