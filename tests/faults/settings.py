"""Settings for the fault tests' real processes (worker, beat, API): the test settings, plus

- e-mail written to files (FAULT_MAIL_DIR), so the test can count what was sent, or, with
  FAULT_SMTP_PORT, sent over SMTP to the test's receiver on 127.0.0.1;
- a fast beat (escalations every second, redelivery every 6 s: longer than one sweep's 5 s budget,
  as in production, so one redelivery sweep runs at a time), so recovery is seen within seconds;
- a 10 s visibility timeout, scanned every second, and a 3 s e-mail claim lease, so a killed
  worker's message and its one send in flight come back within the test;
- the beat's schedule file in the test's own temporary folder.
DATABASE_URL and REDIS_URL come from the test (its database, its own redis-server).
"""

import os

from backend.settings.test import *  # noqa: F403

if os.environ.get("FAULT_SMTP_PORT"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["FAULT_SMTP_PORT"])
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ.get("FAULT_MAIL_DIR", "/tmp/mimamori-fault-mail")
EMAIL_TIMEOUT = 10
OUTBOX_EMAIL_CLAIM_LEASE_SECONDS = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {  # noqa: F405
    **CELERY_BROKER_TRANSPORT_OPTIONS,  # noqa: F405
    "visibility_timeout": 10, "unacked_restore_interval": 1,
}
CELERY_BEAT_SCHEDULE = {
    "escalations-sweep": {"task": "cases.tasks.escalations_sweep", "schedule": 1.0,
                          "options": {"queue": "urgent", "expires": 10}},
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": 6.0,
                     "options": {"queue": "default", "expires": 6}},
}
# Webhooks to the test's receiver on loopback; a killed worker's endpoint lease ends within the test.
WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
WEBHOOK_LEASE_SECONDS = 3
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("FAULT_BEAT_SCHEDULE", "/tmp/mimamori-fault-beat")
