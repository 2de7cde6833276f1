"""ASGI entry point: Daphne serves HTTP (the apiserver, the explorer, pages) and websockets."""

import gc
import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")
django.setup(set_prefix=False)


class SharedThreadASGIHandler(ASGIHandler):
    """Django's ASGI handler without a new thread for every request.

    Django wraps each request in its own thread-sensitive context, so the little sync work
    it does around a view (the request_started and request_finished signals) starts a
    fresh thread, with fresh thread-locals, per request.  Here that work shares asgiref's
    one thread; the apiserver's views run on a thread pool of their own
    (``kubeviz.apiserver.views.api``), so nothing heavy queues behind it.
    """

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        await self.handle(scope, receive, send)


django_asgi_app = SharedThreadASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from kubeviz.scenarios.access import LiveLinkWebsocket  # noqa: E402
from kubeviz.stream.origin import SameOriginValidator  # noqa: E402
from kubeviz.stream.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameOriginValidator(LiveLinkWebsocket(URLRouter(websocket_urlpatterns))),
    }
)

# Every API request builds and drops thousands of small dicts (objects are JSON trees), so
# with the default thresholds the cyclic collector runs every few hundred allocations and
# walks every long-lived module object each time.  Freezing what startup built and
# collecting less often halved the time of a 1,000-item list in profiling.
gc.collect()
gc.freeze()
gc.set_threshold(10_000, 50, 100)
