"""Errors as application/problem+json (RFC 9457) with a stable `code`, in the caller's language.

- `catalogue.py`: every code, its status and its message (English, marked for translation).
- `render.py`: the one renderer (`problem_for`, `problem_body`), DRF's exception handler and
  `ProblemAPIException` (an API-layer error with a code, e.g. a missing If-Match).
- `pages.py`: Django's 400/403/404/500 handlers.

The Japanese of every message lives in `locale/ja/LC_MESSAGES/django.po` (docs/adr/0021).
"""

from api.problems.catalogue import CATALOGUE, Code, code_for
from api.problems.pages import django_handler400, django_handler403, django_handler404, django_handler500
from api.problems.render import (
    PROBLEM_CONTENT_TYPE,
    Problem,
    ProblemAPIException,
    field_errors,
    problem_body,
    problem_exception_handler,
    problem_for,
    problem_response,
)

__all__ = [
    "CATALOGUE", "PROBLEM_CONTENT_TYPE", "Code", "Problem", "ProblemAPIException", "code_for",
    "django_handler400", "django_handler403", "django_handler404", "django_handler500", "field_errors",
    "problem_body", "problem_exception_handler", "problem_for", "problem_response",
]
