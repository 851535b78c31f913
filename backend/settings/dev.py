"""Local development: embedded SQLite and a filesystem Celery broker unless told otherwise.

E-mail is written to files under var/mail/ (one file per delivery run), so the demo's
notification mails can be read without a mail server.
"""

from backend.settings.base import *  # noqa: F403

DEBUG = True

VAR_DIR.mkdir(exist_ok=True)  # noqa: F405  (embedded SQLite and the filesystem broker live here)
EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = str(VAR_DIR / "mail")  # noqa: F405
