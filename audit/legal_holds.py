"""Legal holds: while a hold on a case lasts, retention neither anonymises the case nor removes its
resident's access-log entries or provision records."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from audit.models import LegalHold
from cases.errors import Conflict, RuleViolation
from cases.models import Case, User


def legal_hold_place(*, actor: User, case: Case, reason: str) -> LegalHold:
    if len(reason.strip()) < 10:
        raise RuleViolation("justification_required", field="reason")
    try:
        with transaction.atomic():
            return LegalHold.objects.create(case=case, reason=reason.strip(), placed_by=actor, placed_at=timezone.now())
    except IntegrityError:
        raise Conflict("legal_hold_exists", field="case") from None


def legal_hold_release(*, actor: User, hold: LegalHold) -> LegalHold:
    with transaction.atomic():
        locked = LegalHold.objects.select_for_update().get(pk=hold.pk)
        if locked.released_at is not None:
            raise Conflict("legal_hold_released")
        locked.released_at, locked.released_by = timezone.now(), actor
        locked.save(update_fields=["released_at", "released_by"])
    return locked


def held_case_ids() -> QuerySet:
    return LegalHold.objects.filter(released_at__isnull=True).values("case_id")


def held_resident_ids() -> QuerySet:
    return LegalHold.objects.filter(released_at__isnull=True).values("case__resident_id")
