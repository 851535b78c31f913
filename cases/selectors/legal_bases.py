"""Reads of legal-basis grants and support meetings: their overseers, requesters and members only."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.errors import NotFound
from cases.models import (
    LegalBasisGrant,
    SupportMeeting,
    User,
)
from permissions.actors import actor_for
from permissions.guards import legal_basis_grants_overseen


def legal_basis_grants_for(*, user: User) -> QuerySet[LegalBasisGrant]:
    """Grants the user oversees (held by an organisation they supervise, or about a resident of the ward they
    are privacy officer of: they approve, revoke and review them) or asked for themselves."""
    if not user.is_authenticated:
        return LegalBasisGrant.objects.none()
    return (
        LegalBasisGrant.objects.filter(legal_basis_grants_overseen(actor=actor_for(user=user)) | Q(requested_by=user))
        .select_related("organization", "requested_by", "approved_by", "reviewed_by")
        .order_by("-created_at", "-id")
    )


def legal_basis_grant_get_for_user(*, user: User, grant_id: int) -> LegalBasisGrant:
    grant = legal_basis_grants_for(user=user).filter(pk=grant_id).first()
    if grant is None:
        raise NotFound()
    return grant


def meetings_of(*, user: User) -> QuerySet[SupportMeeting]:
    if not user.is_authenticated:
        return SupportMeeting.objects.none()
    return (
        SupportMeeting.objects.filter(members__user=user)
        .select_related("convened_by")
        .prefetch_related("members__user", "members__organization", "cases")
        .order_by("-held_at", "-id")
        .distinct()
    )


def meeting_get_for_user(*, user: User, meeting_id: int) -> SupportMeeting:
    meeting = meetings_of(user=user).filter(pk=meeting_id).first()
    if meeting is None:
        raise NotFound()
    return meeting
