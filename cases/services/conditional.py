"""The conditional write every update uses: `UPDATE … WHERE version = n`, with its change entry."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from audit.changes import changes_update
from cases.errors import PreconditionFailed


def conditional_update(model, obj, *, expected_version: int, changes: dict[str, Any]) -> None:
    """Write `changes` only if nobody changed the row since `expected_version` (else 412)."""
    changes = {**changes, "updated_at": timezone.now(), "version": F("version") + 1}
    # With its change entry, in the same transaction (audit.changes.changes_update: the one way to UPDATE).
    if changes_update(model.objects.filter(version=expected_version), changes, obj=obj) != 1:
        raise PreconditionFailed()


