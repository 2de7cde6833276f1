"""The Celery application: the work queue every control loop runs on."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")

app = Celery("kubeviz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
