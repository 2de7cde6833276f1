from django.urls import include, path

urlpatterns = [
    path("", include("kubeviz.cluster.urls")),
    path("", include("kubeviz.scenarios.urls")),
    path("", include("kubeviz.apiserver.urls")),
    path("", include("kubeviz.web.urls")),
]
