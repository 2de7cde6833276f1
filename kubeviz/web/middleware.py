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

__all__ = ["security_headers"]
