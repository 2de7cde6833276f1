from django.urls import path

from kubeviz.scenarios import apis

urlpatterns = [
    path("api/scenarios", apis.scenarios_view),
    path("api/scenarios/<str:slug>", apis.scenario_view),
    path("api/scenarios/<str:slug>/export", apis.export_view),
    path("api/scenarios/<str:slug>/launch", apis.launch_view),
    path("api/clusters/<str:name>/story", apis.story_view),
    path("api/clusters/<str:name>/story/resume", apis.story_view),
    path("api/clusters/<str:name>/links", apis.links_view),
]
