from django.apps import AppConfig


class ProxyConfig(AppConfig):
    name = "kubeviz.proxy"
    label = "proxy"
