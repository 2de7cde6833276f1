"""The Celery application: the work queue every control loop runs on."""

import gc
import os
import sys

from celery import Celery

# Worker threads mostly wait on HTTP and Redis, beside a few that compute (a scheduling
# cycle).  With CPython's default 5 ms switch interval a thread whose answer has arrived
# waits behind the computing one for up to 5 ms per wake-up; 1 ms keeps them moving.
sys.setswitchinterval(0.001)
# Reconciles parse and drop many JSON trees; collecting cycles less often keeps the cyclic
# collector from walking the whole heap every few hundred allocations (as in the web process).
gc.set_threshold(10_000, 50, 100)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kubeviz.settings")

app = Celery("kubeviz")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
