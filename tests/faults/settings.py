"""Settings for the fault tests' real processes (worker, beat, API): the test settings, plus

- e-mail written to files (FAULT_MAIL_DIR), so the test can count what was sent;
- a fast beat (every second), so recovery is seen within seconds, not half a minute;
- the beat's schedule file in the test's own temporary folder.
DATABASE_URL and REDIS_URL come from the test (its database, its own redis-server).
"""

import os

from backend.settings.test import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ.get("FAULT_MAIL_DIR", "/tmp/mimamori-fault-mail")
_FAST = {"queue": "urgent", "expires": 10}
CELERY_BEAT_SCHEDULE = {
    "escalations-sweep": {"task": "cases.tasks.escalations_sweep", "schedule": 1.0, "options": _FAST},
    "outbox-sweep": {"task": "notifications.tasks.outbox_sweep", "schedule": 1.0, "options": _FAST},
}
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("FAULT_BEAT_SCHEDULE", "/tmp/mimamori-fault-beat")
