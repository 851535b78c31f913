"""Celery: Redis when REDIS_URL (or CELERY_BROKER_URL) is set, else a filesystem broker.

The filesystem transport needs no server, so `make run` works on a bare machine.
Deadlines live in the database; the broker only carries work that a beat sweep
can always re-derive, so losing it loses nothing.
"""

from pathlib import Path

from django.db import DatabaseError
from kombu import Queue

from backend.env import env_int, env_url

_VAR = Path(__file__).resolve().parent.parent.parent / "var"
VISIBILITY_TIMEOUT = 180
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
    # (the outbox sweep delivers later).
    #
    # A worker killed outright (kill -9, OOM, a lost host) cannot requeue what it had taken: its
    # unacknowledged message comes back when it is older than the visibility timeout, found by a
    # live worker's scan every `unacked_restore_interval` seconds (throttle 1: every interval). So a
    # killed task runs again within VISIBILITY_TIMEOUT + 10 s. (A killed pool process is different:
    # its worker requeues the message at once, `task_reject_on_worker_lost`.)
    # The timeout must exceed how long a live message stays unacknowledged, or Redis hands it to a
    # second worker while the first still runs it: every late-acked task here is bounded (sweeps and
    # deliveries stop at a 5-20 s time budget, retries wait at most 60 s), and the tasks that can
    # run long (retention, memberships sync, sealing, reminders, purges) ack on receipt instead
    # (CELERY_TASK_ANNOTATIONS below). Even a second delivery would be harmless: every task here is
    # idempotent (conditional updates, unique keys, skip-locked claims), so it is only work done twice.
    #
    # `priority`: a worker takes from its queues in the order given (urgent, default, bulk), never
    # round-robin, so a free worker always takes a fresh urgent delivery before any backlog.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": VISIBILITY_TIMEOUT, "unacked_restore_interval": 10, "unacked_restore_throttle": 1,
        "queue_order_strategy": "priority", "socket_connect_timeout": 2, "socket_timeout": 10,
    }

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# Long housekeeping acks on receipt: never redelivered while it still runs; a killed run is simply
# run again by the next beat (each re-derives its work from the database).
CELERY_TASK_ANNOTATIONS = {
    name: {"acks_late": False}
    for name in ("audit.tasks.retention", "audit.tasks.access_log_seal_sweep", "audit.tasks.rights_reminders",
                 "permissions.tasks.memberships_sync", "api.tasks.idempotency_purge")
}
# The one retry policy of every task that may meet a passing database error (a failover, a dropped
# connection): `@shared_task(**settings.TASK_RETRY)`. Late acks and requeue-on-loss are global (above).
TASK_RETRY = {"max_retries": 5, "autoretry_for": (DatabaseError,), "retry_backoff": 2, "retry_backoff_max": 60,
              "retry_jitter": True}

# Backlog work on `bulk` (overdue visits, expiring consents, a disaster campaign, the webhooks' redelivery)
# runs one chunk per message and then waits, so it works at most this share of one worker's time and the
# API keeps the cores (cases/tasks.py, integrations/tasks.py; docs/operations.md). Escalations are never
# paced: they fire on `urgent` as soon as they are due.
BULK_CHUNK_ROWS = env_int("BULK_CHUNK_ROWS", 100, minimum=10, maximum=2000)
BULK_WORK_PERCENT = env_int("BULK_WORK_PERCENT", 5, minimum=1, maximum=100)
# A disaster's safety checks are opened faster than housekeeping: the operator may raise it to 100 during one.
DISASTER_CAMPAIGN_WORK_PERCENT = env_int("DISASTER_CAMPAIGN_WORK_PERCENT", 50, minimum=1, maximum=100)
# The longest wait between two chunks: below the visibility timeout, or Redis would hand the waiting
# (unacknowledged) message to a second worker.
BULK_PAUSE_MAX_SECONDS = 90

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
    "memberships-sync": {"task": "permissions.tasks.memberships_sync", "schedule": 900.0,
                         "options": {"queue": "default"}},
    "idempotency-purge": {"task": "api.tasks.idempotency_purge", "schedule": 3600.0, "options": {"queue": "bulk"}},
    # Deadlines live in the database; these find what is due (safe to run twice or concurrently).
    "escalations-sweep": {"task": "cases.tasks.escalations_sweep", "schedule": 30.0, "options": _SWEEP},
    # Redelivery of old rows: on `default`, behind fresh urgent deliveries; each run stops after 5 s
    # and enqueues nothing, so a backlog drains beside new work instead of in front of it.
    # A partner's report still unrouted after its grace (a lost enqueue, a broker that was down).
    "partner-reports-sweep": {"task": "cases.tasks.partner_reports_sweep", "schedule": 15.0,
                              "options": {"queue": "urgent", "expires": 15}},
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": 10.0,
                     "options": {"queue": "default", "expires": 10}},
    "visits-overdue-sweep": {"task": "cases.tasks.visits_overdue_sweep", "schedule": 900.0,
                             "options": {"queue": "bulk", "expires": 900}},
    "consents-expiring-sweep": {"task": "cases.tasks.consents_expiring_sweep", "schedule": 3600.0,
                                "options": {"queue": "bulk", "expires": 3600}},
    # A disaster campaign whose enqueue was lost (broker down at the declaration) continues from its cursor.
    "disaster-campaigns-sweep": {"task": "cases.tasks.disaster_campaigns_sweep", "schedule": 60.0,
                                 "options": {"queue": "bulk", "expires": 60}},
    # Listings due for re-verification get a task for their organisation (service_directory/tasks.py).
    "directory-reverification-sweep": {"task": "service_directory.tasks.listings_reverification_sweep",
                                       "schedule": 3600.0, "options": {"queue": "bulk", "expires": 3600}},
}
# The audit trail (audit/tasks.py): chain new access-log entries, remind of rights deadlines, apply retention.
CELERY_BEAT_SCHEDULE.update({
    "audit-seal": {"task": "audit.tasks.access_log_seal_sweep", "schedule": 30.0,
                   "options": {"queue": "default", "expires": 30}},
    "audit-rights-reminders": {"task": "audit.tasks.rights_reminders", "schedule": 3600.0,
                               "options": {"queue": "default", "expires": 3600}},
    "audit-retention": {"task": "audit.tasks.retention", "schedule": 86400.0,
                        "options": {"queue": "bulk", "expires": 86400}},
})
CELERY_BEAT_SCHEDULE_FILENAME = str(_VAR / "celerybeat-schedule")
# Webhooks (integrations/delivery.py): what is due after a back-off, a lost task or a dead worker's lease.
# A backlog is paced like the other bulk work: each run sends for BULK_WORK_PERCENT of the interval.
WEBHOOKS_SWEEP_SECONDS = 10.0
CELERY_BEAT_SCHEDULE["webhooks-sweep"] = {"task": "integrations.tasks.webhooks_sweep",
                                          "schedule": WEBHOOKS_SWEEP_SECONDS,
                                          "options": {"queue": "bulk", "expires": WEBHOOKS_SWEEP_SECONDS}}
# Webhook heartbeats (integrations/heartbeat.py) and consent periods that start or end by themselves
# (integrations/events.py: consent_boundaries_announce).
WEBHOOK_HEARTBEAT_SECONDS = env_int("WEBHOOK_HEARTBEAT_SECONDS", 300, minimum=30, maximum=3600)
CELERY_BEAT_SCHEDULE["webhooks-heartbeat"] = {
    "task": "integrations.tasks.webhooks_heartbeat", "schedule": float(WEBHOOK_HEARTBEAT_SECONDS),
    "options": {"queue": "default", "expires": float(WEBHOOK_HEARTBEAT_SECONDS)}}
CELERY_BEAT_SCHEDULE["consent-boundaries"] = {"task": "integrations.tasks.consent_boundaries_announce",
                                              "schedule": 60.0, "options": {"queue": "default", "expires": 60}}
