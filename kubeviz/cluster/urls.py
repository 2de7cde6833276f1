from django.urls import path

from kubeviz.cluster import apis

urlpatterns = [
    path("api/clusters", apis.ClusterListAPI.as_view()),
    path("api/clusters/<str:name>", apis.ClusterDetailAPI.as_view()),
    path("api/clusters/<str:name>/kubeconfig", apis.KubeconfigAPI.as_view()),
    path("api/clusters/<str:name>/requests", apis.RequestsAPI.as_view()),
    path("api/clusters/<str:name>/controllers", apis.ControllersAPI.as_view()),
    path("api/clusters/<str:name>/scheduling/<str:namespace>/<str:pod>", apis.SchedulingAPI.as_view()),
    path("api/clusters/<str:name>/machines", apis.MachineListAPI.as_view()),
    path("api/clusters/<str:name>/machines/<str:machine>", apis.MachineDetailAPI.as_view()),
    path(
        "api/clusters/<str:name>/machines/<str:machine>/components/<str:component>",
        apis.ComponentAPI.as_view(),
    ),
    path("api/clusters/<str:name>/machines/<str:machine>/routes", apis.RoutesAPI.as_view()),
    path("api/clusters/<str:name>/machines/<str:machine>/proxy-rules", apis.ProxyRulesAPI.as_view()),
    path("api/clusters/<str:name>/dns", apis.DNSAPI.as_view()),
    path("api/clusters/<str:name>/trace", apis.TraceAPI.as_view()),
]
