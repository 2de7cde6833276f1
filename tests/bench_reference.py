"""The bare-Django reference server of ``tests.bench``: settings, urlconf and ASGI app in one.

``python -m daphne tests.bench_reference:application`` serves kubeviz's own settings (same
middleware, same installed apps, same Daphne) with ``ROOT_URLCONF`` pointing here, at
two plain function views that touch neither the store nor Redis:

* ``/ref/status`` → ``JsonResponse({"kind": "Status"})``: the floor cost of one request
  through Daphne + Django's ASGI handler + a sync view, with no work in the view.
* ``/ref/list`` → the JSON document in the file named by ``KUBEVIZ_BENCH_LIST_FILE``,
  decoded once and re-encoded on every request: the cost of serving the same bytes as the
  apiserver's list, without reading them from the store.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from kubeviz.settings import *  # noqa: F403 - the reference runs on kubeviz's own settings

ROOT_URLCONF = "tests.bench_reference"


def status_view(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse({"kind": "Status"})


@cache
def _list_document() -> Any:
    with open(os.environ["KUBEVIZ_BENCH_LIST_FILE"], "rb") as f:
        return json.load(f)


def list_view(request: Any) -> Any:
    from django.http import JsonResponse

    return JsonResponse(_list_document())


def _urlpatterns() -> list[Any]:
    from django.urls import path

    return [path("ref/status", status_view), path("ref/list", list_view)]


urlpatterns = _urlpatterns()

os.environ["DJANGO_SETTINGS_MODULE"] = "tests.bench_reference"

from django.core.asgi import get_asgi_application  # noqa: E402 - settings must be defined first

application = get_asgi_application()
