"""The access log's external anchor (audit/anchors.py): where the signed chain heads go, and the key.

Unset `AUDIT_ANCHOR_PATH`: no anchors are written (development, tests), and `audit_verify` says
so. Set, it names an append-only JSON-lines file on storage the database's administrators cannot
write (another host's mount, a WORM bucket's sync folder); `AUDIT_ANCHOR_KEY` (at least 32
characters) is the HMAC-SHA256 key, given only to the worker that writes anchors and to whoever
runs `audit_verify`, never to the database. The anchor task runs every
`AUDIT_ANCHOR_INTERVAL_SECONDS` (600): at most that much of the log is not yet anchored.
"""

from django.core.exceptions import ImproperlyConfigured

from backend.env import env_int, env_str
from backend.settings.celery import CELERY_BEAT_SCHEDULE

AUDIT_ANCHOR_PATH = env_str("AUDIT_ANCHOR_PATH", "")
AUDIT_ANCHOR_KEY = env_str("AUDIT_ANCHOR_KEY", "")
AUDIT_ANCHOR_INTERVAL_SECONDS = env_int("AUDIT_ANCHOR_INTERVAL_SECONDS", 600, minimum=30, maximum=86400)
if AUDIT_ANCHOR_PATH and len(AUDIT_ANCHOR_KEY) < 32:
    raise ImproperlyConfigured("Environment variable AUDIT_ANCHOR_KEY must be at least 32 characters when "
                               "AUDIT_ANCHOR_PATH is set.")

CELERY_BEAT_SCHEDULE["audit-anchor"] = {
    "task": "audit.tasks.access_log_anchor_sweep", "schedule": float(AUDIT_ANCHOR_INTERVAL_SECONDS),
    "options": {"queue": "default", "expires": AUDIT_ANCHOR_INTERVAL_SECONDS},
}
