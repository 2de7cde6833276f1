from django.apps import AppConfig


class NetdConfig(AppConfig):
    name = "kubeviz.netd"
    label = "netd"
