"""The conditional write every update uses: `UPDATE … WHERE version = n`, with its change entry."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from audit.changes import changes_record
from cases.errors import PreconditionFailed


def conditional_update(model, obj, *, expected_version: int, changes: dict[str, Any]) -> None:
    """Write `changes` only if nobody changed the row since `expected_version` (else 412)."""
    changes = {**changes, "updated_at": timezone.now(), "version": F("version") + 1}
    updated = model.objects.filter(pk=obj.pk, version=expected_version).update(**changes)
    if updated != 1:
        raise PreconditionFailed()
    changes_record(model=model, obj=obj, new=changes)  # the access log's change entry, same transaction


