from django.urls import path

from kubeviz.web import views

urlpatterns = [
    path("", views.index, name="index"),
    path("clusters/<str:name>/", views.cluster_page, name="cluster"),
]
