"""The Celery application. Tasks are APIs: they take ids, reload, and call a service."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.dev")

app = Celery("mimamori")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
