"""Pages: the cluster list, and a cluster's live canvas."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kubeviz.web import assets


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/index.html", {"cluster": ""})


def cluster_page(request: HttpRequest, name: str) -> HttpResponse:
    built = assets.entry()
    if built is None:
        return render(request, "web/unbuilt.html", {"cluster": name}, status=503)
    return render(request, "web/canvas.html", {"cluster": name, "entry": built})
