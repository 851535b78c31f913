"""django-guardian: object permissions live in direct-foreign-key tables (permissions/models.py).

No anonymous-user grants: nothing is ever visible without an account.
"""

ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False
GUARDIAN_RENDER_403 = False
