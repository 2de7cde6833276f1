from django.urls import path

from kubeviz.cluster import apis

urlpatterns = [
    path("api/clusters", apis.ClusterListAPI.as_view()),
    path("api/clusters/<str:name>", apis.ClusterDetailAPI.as_view()),
    path("api/clusters/<str:name>/kubeconfig", apis.KubeconfigAPI.as_view()),
    path("api/clusters/<str:name>/requests", apis.RequestsAPI.as_view()),
    path("api/clusters/<str:name>/scheduling/<str:namespace>/<str:pod>", apis.SchedulingAPI.as_view()),
]
