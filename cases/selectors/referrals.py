"""Reads of referrals: their parties only."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from cases.errors import NotFound
from cases.models import (
    Organization,
    Referral,
    ReferralEvent,
    User,
)
from cases.selectors.names import name_of, rows_template
from permissions.actors import actor_for

# The directory's service a referral may name (cases never imports the directory itself).
_SERVICE = Referral._meta.get_field("service").related_model


# Referrals: visible to the parties only. The sender's organisation sees what it sent (drafts too);
# the receiving organisation sees a referral once it was sent. Commissioners act for their council
# only about residents of their districts. What a referral lets the receiver read about the resident
# is the policy's business (cases_visible_to and friends), not this list's.
def _referral_side(user: User, field: str) -> Q:
    """Only the parts the actor has: a part with an empty list matches nothing, yet its join to the resident
    would stay in the query (one more table for every page to plan)."""
    actor = actor_for(user=user)
    side = Q(pk__in=[])
    if actor.queue_organization_ids:
        side |= Q(**{f"{field}_id__in": sorted(actor.queue_organization_ids)})
    if actor.commissioner_council_ids and actor.commissioner_district_ids:
        side |= Q(**{f"{field}_id__in": sorted(actor.commissioner_council_ids),
                     "case__resident__district_id__in": sorted(actor.commissioner_district_ids)})
    return side


def _referral_base() -> QuerySet[Referral]:
    return Referral.objects.select_related(
        "case__resident", "sender_organization", "receiver_organization", "sender_user", "receiver_user",
        "answered_by", "service",
    )


# A list page of referrals as rows: what `ReferralSerializer` reads, in one query (the case joined; the names of
# the parties and the service by sub-select, cases/selectors/names.py).
REFERRAL_VALUES = (
    "id", "case_id", "case__resident_id", "sender_organization_id", "sender_organization__kind",
    "sender_organization__name", "sender_user_id", "sender_user__display_name", "receiver_organization_id",
    "receiver_organization__kind", "receiver_organization__name", "receiver_user_id",
    "receiver_user__display_name", "service_id", "service__uuid", "service__name", "reason", "urgency",
    "categories", "status", "status_reason", "response_due_at", "requested_at", "answered_at", "answered_by_id",
    "answered_by__display_name", "closed_at", "created_at", "updated_at",
)
# Each shown name as its sub-select, built once (a query resolves its own copy).
_REFERRAL_NAMES = {
    "sender_organization__kind": name_of(Organization, "kind", "sender_organization_id"),
    "sender_organization__name": name_of(Organization, "name", "sender_organization_id"),
    "sender_user__display_name": name_of(User, "display_name", "sender_user_id"),
    "receiver_organization__kind": name_of(Organization, "kind", "receiver_organization_id"),
    "receiver_organization__name": name_of(Organization, "name", "receiver_organization_id"),
    "receiver_user__display_name": name_of(User, "display_name", "receiver_user_id"),
    "service__uuid": name_of(_SERVICE, "uuid", "service_id"),
    "service__name": name_of(_SERVICE, "name", "service_id"),
    "answered_by__display_name": name_of(User, "display_name", "answered_by_id"),
}


def referral_values(referrals: QuerySet[Referral]) -> QuerySet:
    """The caller's (already scoped and filtered) referrals as rows of `REFERRAL_VALUES`, for a list page."""
    return referrals.values(*(field for field in REFERRAL_VALUES if field not in _REFERRAL_NAMES), **_REFERRAL_NAMES)


@rows_template
def _referral_rows() -> QuerySet:
    return referral_values(Referral.objects.all())


def referrals_visible_to(*, user: User) -> QuerySet[Referral]:
    if not user.is_authenticated:
        return Referral.objects.none()
    sent = _referral_side(user, "sender_organization")
    received = _referral_side(user, "receiver_organization") & Q(requested_at__isnull=False)
    return _referral_base().filter(sent | received).order_by("-created_at", "-id")


def referral_get_for_user(*, user: User, referral_id: int) -> Referral:
    referral = referrals_visible_to(user=user).filter(pk=referral_id).first()
    if referral is None:
        raise NotFound()
    return referral


def referrals_inbox_for(*, user: User, rows: bool = False) -> QuerySet[Referral]:
    """Referrals sent to my organisation (or my districts' council), soonest response deadline first; with `rows`,
    as rows of `REFERRAL_VALUES` for a list page to filter and page."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return (
        (_referral_rows() if rows else _referral_base())
        .filter(_referral_side(user, "receiver_organization"), requested_at__isnull=False)
        .order_by("response_due_at", "id")
    )


def referrals_sent_by(*, user: User, rows: bool = False) -> QuerySet[Referral]:
    """Referrals my organisation sent (drafts included), newest first; with `rows`, as rows of `REFERRAL_VALUES`."""
    if not user.is_authenticated:
        return Referral.objects.none()
    return ((_referral_rows() if rows else _referral_base())
            .filter(_referral_side(user, "sender_organization")).order_by("-created_at", "-id"))


def referral_events_of(*, referral: Referral) -> QuerySet[ReferralEvent]:
    return referral.events.select_related("actor", "organization").order_by("at", "id")
