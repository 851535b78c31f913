"""Settings shared by every environment, read strictly from the environment.

Integrations keep their own module (celery, spectacular, guardian, logging) and
are imported at the end. Environment overrides live in dev/test/production.
"""

from pathlib import Path

from backend.env import database_from_url, env_int, env_list, env_str, env_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz")
DEBUG = False
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "guardian",
    "axes",
    "cases",
    "permissions",
    "api",
    "audit",
    "notifications",
    "integrations",
    "plan_statistics",
    "demo",
    "service_directory",
]

MIDDLEWARE = [
    "backend.request_id.RequestIdMiddleware",
    "audit.middleware.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "api.middleware.RequestLimitsMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a throttled login (backend/login_throttle.py) into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
AUTH_USER_MODEL = "cases.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": database_from_url(
        "DATABASE_URL", env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_url("REDIS_URL", None, schemes=("redis", "rediss"))
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTHENTICATION_BACKENDS = [
    # First: refuses a throttled login before any password is checked (backend/login_throttle.py).
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/api/auth/login/"
LOGIN_REDIRECT_URL = "/api/docs/"

# Every login is throttled (backend/settings/axes.py). Reverse proxies in front of the service that
# append the client's address to X-Forwarded-For (0: clients connect directly; production: 1).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)
# The longest lifetime of an API token; a client may ask for less, never more.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1, maximum=730)
# Webhooks (integrations/): hosts that may resolve to private, loopback or link-local addresses (a receiver
# inside the operator's own network; else none may), each send's timeout, and how long an endpoint may fail
# before it is disabled.
WEBHOOK_ALLOWED_HOSTS = env_list("WEBHOOK_ALLOWED_HOSTS", [])
WEBHOOK_TIMEOUT = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1, maximum=30)
WEBHOOK_DISABLE_AFTER_DAYS = env_int("WEBHOOK_DISABLE_AFTER_DAYS", 3, minimum=1, maximum=30)
# Published statistics withhold every count from 1 to this minus one (plan_statistics/disclosure.py, ADR 0016).
STATISTICS_MIN_CELL = env_int("STATISTICS_MIN_CELL", 10, minimum=2, maximum=100)

LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
# Every user-facing message is English in the code, marked for translation; its Japanese is in
# locale/ja/LC_MESSAGES/django.po (compiled to the committed django.mo: `make messages`, docs/adr/0021).
# Ours come first, so they also fill the Japanese that DRF's own catalogue lacks. The language of a
# request is chosen once, by LocaleMiddleware from Accept-Language among LANGUAGES (else Japanese).
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_TZ = True

# Static files (the admin's, the browsable API's, Swagger UI's) are served by the service itself
# (whitenoise), so the docs page works with no internet and no web server in front.
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Without collectstatic (make run, make test) whitenoise finds the files in the apps at each request.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mimamori@localhost")
# Notifications carry a link to the record (ids only); this is the origin the links start with.
# Who is on the evacuation-support list (避難行動要支援者名簿), the ward's criteria: anyone with one of these
# special-care categories, or aged at least EVACUATION_LIST_MIN_AGE in one of these household types.
EVACUATION_LIST_MIN_AGE = env_int("EVACUATION_LIST_MIN_AGE", 75, minimum=60, maximum=100)
EVACUATION_LIST_HOUSEHOLD_TYPES = env_list(
    "EVACUATION_LIST_HOUSEHOLD_TYPES", ["lives_alone", "elderly_couple", "elderly_household"])
EVACUATION_LIST_SPECIAL_CARE = env_list(
    "EVACUATION_LIST_SPECIAL_CARE",
    ["bedridden", "dementia", "disability_physical", "disability_intellectual", "evacuation_support"])

NOTIFICATION_LINK_BASE = env_url("NOTIFICATION_LINK_BASE", "http://localhost:8000", schemes=("http", "https"))

# The largest body any route accepts (a full visit batch fits: api/limits.py says why). Longer
# bodies are refused with 413 by api.middleware.RequestLimitsMiddleware before anything reads them.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.authentication.OrganizationClientAuthentication",  # mmc_ keys only; before mmr_ tokens
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.access.IsActiveMember"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.StableCursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "api.schema.ProblemAutoSchema",
    "EXCEPTION_HANDLER": "api.problems.problem_exception_handler",
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "api.renderers.ApiJSONRenderer",  # DRF's JSON, written by orjson
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": env_str("ANON_THROTTLE_RATE", "60/minute")},
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

from backend.settings.audit import *  # noqa: E402,F403
from backend.settings.axes import *  # noqa: E402,F403
from backend.settings.celery import *  # noqa: E402,F403
from backend.settings.csp import *  # noqa: E402,F403
from backend.settings.directory import *  # noqa: E402,F403
from backend.settings.guardian import *  # noqa: E402,F403
from backend.settings.logging import *  # noqa: E402,F403
from backend.settings.spectacular import *  # noqa: E402,F403
