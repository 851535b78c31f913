"""Local development: embedded SQLite and a filesystem Celery broker unless told otherwise."""

from backend.settings.base import *  # noqa: F403

DEBUG = True

VAR_DIR.mkdir(exist_ok=True)  # noqa: F405  (embedded SQLite and the filesystem broker live here)
