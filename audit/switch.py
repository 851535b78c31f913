"""The audit path's off switch, for the overhead benchmark only (benchmarks/audit_overhead.py).

Kept apart (no imports) so that `permissions.grants` can reach `audit.provisions`
without importing the access log, which itself reads through `permissions.access`.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator

_suspended: contextvars.ContextVar[bool] = contextvars.ContextVar("audit_suspended", default=False)


def is_suspended() -> bool:
    return _suspended.get()


@contextlib.contextmanager
def audit_suspended() -> Iterator[None]:
    """Run without access log, change entries or provision records. Never used by the product."""
    token = _suspended.set(True)
    try:
        yield
    finally:
        _suspended.reset(token)
