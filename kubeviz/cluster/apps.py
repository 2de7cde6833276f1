from django.apps import AppConfig


class ClusterConfig(AppConfig):
    name = "kubeviz.cluster"
    label = "cluster"
