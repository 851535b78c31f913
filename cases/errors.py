"""Domain errors: a broken rule raises one of these with a stable code.

The API turns them into application/problem+json; each code's status and message are in the
catalogue (`api/problems/catalogue.py`, the Japanese in `locale/`). A broken rule raises a code that
names it; the classes' codes are defaults for the truly generic case.
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "domain_error"

    def __init__(self, code: str | None = None, *, field: str | None = None, **params) -> None:
        self.code = code or self.code
        self.field = field
        self.params = params
        super().__init__(self.code)


class NotFound(DomainError):
    """Missing and forbidden look the same, so nobody learns that a record exists."""

    status = 404
    code = "not_found"


class NotPermitted(DomainError):
    """The caller may see the record but this action is not theirs to take."""

    status = 403
    code = "not_permitted"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"


class RuleViolation(DomainError):
    status = 400
    code = "rule_violation"
