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
        "control_folder": str(_VAR / "celery-control"),
        "store_processed": False,
    }
else:
    # Fail fast when Redis is down: the API's after-commit enqueue must not hang a request
    # (the outbox sweep delivers later). Unacked messages come back after the visibility timeout.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2, "socket_timeout": 10}

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
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
# Sweeps re-derive their work from the database, so a sweep message that waits behind
# a backlog is worth nothing once the next one is due: let it expire instead of piling up.
_SWEEP = {"queue": "urgent", "expires": 60}
CELERY_BEAT_SCHEDULE = {
    "memberships-sync": {"task": "cases.tasks.memberships_sync", "schedule": 900.0, "options": {"queue": "default"}},
    "idempotency-purge": {"task": "api.tasks.idempotency_purge", "schedule": 3600.0, "options": {"queue": "bulk"}},
    # Deadlines live in the database; these find what is due (safe to run twice or concurrently).
    "escalations-sweep": {"task": "cases.tasks.escalations_sweep", "schedule": 30.0, "options": _SWEEP},
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": 30.0, "options": _SWEEP},
    "visits-overdue-sweep": {"task": "cases.tasks.visits_overdue_sweep", "schedule": 900.0,
                             "options": {"queue": "bulk", "expires": 900}},
    "consents-expiring-sweep": {"task": "cases.tasks.consents_expiring_sweep", "schedule": 3600.0,
                                "options": {"queue": "bulk", "expires": 3600}},
}
# The audit trail (audit/tasks.py): chain new access-log entries, remind of rights deadlines, apply retention.
CELERY_BEAT_SCHEDULE.update({
    "audit-seal": {"task": "audit.tasks.access_log_seal", "schedule": 30.0,
                   "options": {"queue": "default", "expires": 30}},
    "audit-rights-reminders": {"task": "audit.tasks.rights_reminders", "schedule": 3600.0,
                               "options": {"queue": "default", "expires": 3600}},
    "audit-retention": {"task": "audit.tasks.retention", "schedule": 86400.0,
                        "options": {"queue": "bulk", "expires": 86400}},
})
CELERY_BEAT_SCHEDULE_FILENAME = str(_VAR / "celerybeat-schedule")
