"""kubeviz: a Kubernetes cluster you can watch think.

The package layout is the architecture diagram: one package per component
(store = etcd, apiserver = kube-apiserver, controllers = kube-controller-manager, ...).
"""

from kubeviz.celery import app as celery_app

__all__ = ["celery_app"]
