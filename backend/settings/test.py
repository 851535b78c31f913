"""Tests: the suite's database and Redis come from DATABASE_URL / REDIS_URL (CI sets both)."""

from backend.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "10000/minute"}}  # noqa: F405
DIRECTORY_ANON_THROTTLE_RATE = "10000/minute"
# Each test starts from its own data: the public cache is off unless a test turns it on.
DIRECTORY_CACHE_SECONDS = 0
