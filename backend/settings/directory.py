"""The public directory of services (service_directory/): how long a listing stays true, its cache and
the anonymous rate limit."""

from django.core.exceptions import ImproperlyConfigured

from backend.env import env_int, env_str

# A listing not re-verified for this many months opens a re-verification task for its organisation
# and is flagged "not recently verified"; after DIRECTORY_UNLIST_AFTER_MONTHS it leaves the public listing.
DIRECTORY_REVERIFY_AFTER_MONTHS = env_int("DIRECTORY_REVERIFY_AFTER_MONTHS", 6, minimum=1, maximum=36)
DIRECTORY_UNLIST_AFTER_MONTHS = env_int("DIRECTORY_UNLIST_AFTER_MONTHS", 9, minimum=2, maximum=48)
if DIRECTORY_UNLIST_AFTER_MONTHS <= DIRECTORY_REVERIFY_AFTER_MONTHS:
    raise ImproperlyConfigured("DIRECTORY_UNLIST_AFTER_MONTHS must be more than DIRECTORY_REVERIFY_AFTER_MONTHS")
# Public answers are cached this long (0: not cached); every write to the directory starts a new generation.
DIRECTORY_CACHE_SECONDS = env_int("DIRECTORY_CACHE_SECONDS", 60, minimum=0, maximum=3600)
# Anonymous requests to the public directory, per client address.
DIRECTORY_ANON_THROTTLE_RATE = env_str("DIRECTORY_ANON_THROTTLE_RATE", "120/minute")
