"""Pages: the front page, a cluster's live canvas, and a scenario's page.

Every page sets Django's CSRF cookie: the forms send it back with each write.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie

from kubeviz.scenarios import library
from kubeviz.scenarios.models import Scenario
from kubeviz.web import assets


@ensure_csrf_cookie
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/index.html", {"cluster": ""})


@ensure_csrf_cookie
def cluster_page(request: HttpRequest, name: str) -> HttpResponse:
    built = assets.entry()
    link = getattr(request, "kubeviz_link", None)
    shown = link.token if link is not None else name  # a live link never shows the cluster's name
    mode = link.mode if link is not None else "owner"
    if built is None:
        return render(request, "web/unbuilt.html", {"cluster": shown}, status=503)
    return render(request, "web/canvas.html", {"cluster": shown, "mode": mode, "entry": built})


@ensure_csrf_cookie
def scenario_page(request: HttpRequest, slug: str) -> HttpResponse:
    built = assets.entry("src/scenario.ts")
    if built is None:
        return render(request, "web/unbuilt.html", {"cluster": slug}, status=503)
    library.ensure()
    if not Scenario.objects.filter(slug=slug).exists():  # a 404 a link checker can see
        return render(request, "web/missing.html", {"slug": slug, "entry": built}, status=404)
    return render(request, "web/scenario.html", {"slug": slug, "entry": built})
