"""Pages: the cluster list and a cluster's connection page."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/index.html", {"cluster": ""})


def cluster_page(request: HttpRequest, name: str) -> HttpResponse:
    return render(request, "web/index.html", {"cluster": name})
