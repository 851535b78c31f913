"""Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a filesystem broker.

The filesystem transport needs no server, so `make run` works on a bare machine.
Deadlines live in the database; the broker only carries work that a beat sweep
can always re-derive, so losing it loses nothing.
"""

from pathlib import Path

from kombu import Queue

from backend.env import env_url

_VAR = Path(__file__).resolve().parent.parent.parent / "var"
_REDIS = env_url("REDIS_URL", None, schemes=("redis", "rediss"))
CELERY_BROKER_URL = env_url("CELERY_BROKER_URL", _REDIS, schemes=("redis", "rediss", "filesystem", "memory"))
if CELERY_BROKER_URL is None:
    CELERY_BROKER_URL = "filesystem://"
    _FOLDER = _VAR / "celery-broker"
    _FOLDER.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_FOLDER),
        "data_folder_out": str(_FOLDER),
        "processed_folder": str(_VAR / "celery-processed"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Asia/Tokyo"
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_QUEUES = (Queue("urgent"), Queue("default"), Queue("bulk"))
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "memberships-sync": {"task": "cases.tasks.memberships_sync", "schedule": 900.0, "options": {"queue": "default"}},
    "idempotency-purge": {"task": "api.tasks.idempotency_purge", "schedule": 3600.0, "options": {"queue": "bulk"}},
}
CELERY_BEAT_SCHEDULE_FILENAME = str(_VAR / "celerybeat-schedule")
