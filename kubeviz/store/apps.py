from django.apps import AppConfig


class StoreConfig(AppConfig):
    name = "kubeviz.store"
    label = "store"
    verbose_name = "etcd (the store)"
