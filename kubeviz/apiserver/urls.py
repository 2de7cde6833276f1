from django.urls import path, re_path

from kubeviz.apiserver.views import KubernetesAPIView

urlpatterns = [
    path("k8s/<str:cluster>", KubernetesAPIView.as_view(), {"path": ""}),
    re_path(r"^k8s/(?P<cluster>[^/]+)/(?P<path>.*)$", KubernetesAPIView.as_view()),
]
