"""Content-Security-Policy (django-csp) on every response, the docs page and the admin included.

Nothing is loaded from outside the service: Swagger UI comes from drf-spectacular-sidecar and, like
the admin's and the browsable API's assets, is served by the service itself (whitenoise). No inline
script runs anywhere (the docs page loads its start-up script from its own URL); inline styles are
allowed because Swagger UI and the admin set style attributes.
"""

from csp.constants import NONE, SELF, UNSAFE_INLINE

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
