"""django-axes: the one login throttle (backend/login_throttle.py, ADR 0007).

Failures are counted per normalised user name in the database; an address where many names failed
refuses only the names that failed there. A locked name is refused with 429 until the window has passed
since its last counted failure; attempts refused while locked do not extend it.
"""

import datetime

from backend.env import env_int

# Failures of one user name within the window that refuse it.
AXES_FAILURE_LIMIT = env_int("LOGIN_THROTTLE_FAILURES", 5, minimum=1, maximum=100)
AXES_COOLOFF_TIME = datetime.timedelta(
    seconds=env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 900, minimum=10, maximum=86400)
)
# Different user names failing from one address before it refuses the names that failed there.
LOGIN_THROTTLE_ADDRESS_NAMES = env_int("LOGIN_THROTTLE_ADDRESS_NAMES", 50, minimum=2, maximum=10000)

AXES_HANDLER = "backend.login_throttle.LoginThrottle"
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "backend.login_throttle.username_key"
AXES_CLIENT_IP_CALLABLE = "backend.login_throttle.client_address"
AXES_LOCKOUT_CALLABLE = "backend.login_throttle.throttled_response"
# Its log lines name only what is counted (the user name, masked) and the path: no user agent, no start-up banner.
AXES_VERBOSE = False
# Successful logins are not kept in a second, unbounded log of names and addresses.
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# axes warns when it does not count addresses itself: LoginThrottle counts them with its own rule (above).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
