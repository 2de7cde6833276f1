from django.apps import AppConfig


class ApiserverConfig(AppConfig):
    name = "kubeviz.apiserver"
    label = "apiserver"
