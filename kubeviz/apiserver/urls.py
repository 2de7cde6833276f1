from django.urls import path, re_path

from kubeviz.apiserver.views import api

urlpatterns = [
    path("k8s/<str:cluster>", api, {"path": ""}),
    re_path(r"^k8s/(?P<cluster>[^/]+)/(?P<path>.*)$", api),
]
