from django.urls import path

from kubeviz.web import apis, views

urlpatterns = [
    path("", views.index, name="index"),
    path("clusters/<str:name>/", views.cluster_page, name="cluster"),
    path("s/<str:slug>", views.scenario_page, name="scenario"),
    path("api/clusters/<str:name>/apply", apis.apply_view),
    path("api/clusters/<str:name>/actions", apis.actions_view),
]
