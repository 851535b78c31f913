"""Reads of a resident's consent records."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.models import (
    Consent,
    Resident,
)


def consents_of_resident(*, resident: Resident) -> QuerySet[Consent]:
    """Consent records of a resident the caller already may see (look it up with resident_get_for_user)."""
    return (
        Consent.objects.filter(resident=resident)
        .select_related("taken_by", "taken_by_organization", "withdrawn_by")
        .prefetch_related("recipient_organizations")
        .order_by("-taken_at", "-id")
    )
