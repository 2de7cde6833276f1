from django.apps import AppConfig


class KubeletConfig(AppConfig):
    name = "kubeviz.kubelet"
    label = "kubelet"
