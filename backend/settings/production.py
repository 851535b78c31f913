"""Production: secrets and servers required, HTTPS enforced; passes `manage.py check --deploy`.

Nothing falls back to the embedded defaults of `make run`: without PostgreSQL (DATABASE_URL) and
Redis (REDIS_URL: broker and cache) the process refuses to start, naming the variable. SQLite would
lose the access log's append-only trigger; a filesystem broker is one machine's; a per-process cache
lets each gunicorn worker count requests on its own.
"""

from django.core.exceptions import ImproperlyConfigured

from backend.env import database_from_url, env_bool, env_int, env_str, env_url
from backend.settings.base import *  # noqa: F403

SECRET_KEY = env_str("SECRET_KEY", required=True)
if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("dev-only"):
    raise ImproperlyConfigured("Environment variable SECRET_KEY must be a random value of at least 50 characters.")

DATABASES = {"default": database_from_url("DATABASE_URL", env_str("DATABASE_URL", required=True))}
if DATABASES["default"]["ENGINE"] != "backend.postgresql":
    raise ImproperlyConfigured("Environment variable DATABASE_URL must be a postgres:// URL in production.")

REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss"))
if REDIS_URL is None:
    raise ImproperlyConfigured("Environment variable REDIS_URL is required (the Celery broker and the cache).")
# The request throttles' counters must be shared by every worker: the cache is Redis, never per process.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": env_url("CACHE_URL", REDIS_URL, schemes=("redis", "rediss")),
    }
}
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    raise ImproperlyConfigured("Environment variable CELERY_BROKER_URL must be a redis:// URL in production.")

# Production runs behind the TLS-terminating reverse proxy (SECURE_PROXY_SSL_HEADER below trusts it too),
# which appends the client's address to X-Forwarded-For; set the count of such proxies in front.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1, minimum=0, maximum=5)

DEBUG = False
# The image runs collectstatic: hashed, compressed files with far-future caching, nothing found at run time.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
