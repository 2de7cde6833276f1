from django.apps import AppConfig


class ScenariosConfig(AppConfig):
    name = "kubeviz.scenarios"
    label = "scenarios"
