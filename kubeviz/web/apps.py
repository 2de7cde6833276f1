from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "kubeviz.web"
    label = "web"
