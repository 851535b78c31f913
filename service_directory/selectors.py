"""Reads of the directory: the public listing and its search, and the listings a member may manage.

The public listing is what a resident may find: approved, not defunct, and re-verified within
`DIRECTORY_UNLIST_AFTER_MONTHS`. A listing not re-verified within `DIRECTORY_REVERIFY_AFTER_MONTHS`
stays listed but is flagged "not recently verified" (`listing_unverified`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from cases.errors import NotFound, RuleViolation
from cases.kana import kana_normalize
from cases.models import Referral
from cases.models.referrals import ReferralStatus
from permissions.actors import actor_for
from permissions.guards import listing_managed_by
from service_directory import schedules
from service_directory.models import (
    Approval,
    Attribute,
    DirectoryOrganization,
    Schedule,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)


def search_normalize(text: str) -> str:
    """The key text is searched by: NFKC, hiragana as katakana, no spaces, case folded. さろん, サロン and
    ｻﾛﾝ give the same key; kanji stay as they are."""
    return kana_normalize(text).casefold()


def postal_code_normalize(text: str) -> str:
    """〒214-0014, ２１４００１４ and 2140014 are one postal code: its seven digits."""
    return "".join(ch for ch in kana_normalize(text) if ch.isdigit())


def reverify_before(today: datetime.date) -> datetime.date:
    """Listings assured before this day are due for re-verification (and flagged)."""
    return today - relativedelta(months=settings.DIRECTORY_REVERIFY_AFTER_MONTHS)


def unlist_before(today: datetime.date) -> datetime.date:
    """Listings assured before this day have left the public listing."""
    return today - relativedelta(months=settings.DIRECTORY_UNLIST_AFTER_MONTHS)


def listing_unverified(*, service: Service, today: datetime.date) -> bool:
    return service.assured_date < reverify_before(today)


def services_public(*, today: datetime.date | None = None) -> QuerySet[Service]:
    today = today or timezone.localdate()
    return Service.objects.filter(approval=Approval.APPROVED, assured_date__gte=unlist_before(today)).exclude(
        status=ServiceStatus.DEFUNCT)


def _with_details(queryset: QuerySet[Service]) -> QuerySet[Service]:
    return queryset.select_related("organization").prefetch_related(
        "schedules", "service_areas", "phones", "contacts", "languages", "metadata",
        Prefetch("attributes", queryset=Attribute.objects.select_related("taxonomy_term__taxonomy")),
        Prefetch("service_at_locations", queryset=ServiceAtLocation.objects.select_related("location")),
    )


@dataclass(frozen=True)
class ServiceSearch:
    """What a public search asks; every part is optional and they combine with AND."""

    text: str = ""
    taxonomy_term_id: str = ""
    taxonomy_code: str = ""
    organization_id: str = ""
    district: str = ""
    postcode: str = ""
    language: str = ""
    open_at: datetime.datetime | None = None
    open_on: datetime.date | None = None
    modified_after: datetime.datetime | None = None


def _terms_under(term: TaxonomyTerm) -> list[int]:
    """A term and its descendants (the taxonomy is two levels deep; this walks any depth)."""
    ids, frontier = [term.id], [term.id]
    while frontier:
        frontier = list(TaxonomyTerm.objects.filter(parent_id__in=frontier).values_list("id", flat=True))
        ids += frontier
    return ids


def _open_service_ids(candidates: QuerySet[Service], *, moment: datetime.datetime | None,
                      day: datetime.date | None) -> set[int]:
    """Candidates with a schedule open at `moment` (or with a session on `day`): the database keeps the
    schedules that can match (the weekday, the hours), the recurrence rule decides."""
    local_day = moment.astimezone(schedules.TOKYO).date() if moment else day
    rows = Schedule.objects.filter(service__in=candidates.values("id")).filter(
        Q(byday="") | Q(byday__contains=schedules.weekday_code(local_day)) | ~Q(bymonthday=""))
    if moment is not None:
        local_time = moment.astimezone(schedules.TOKYO).time()
        rows = rows.filter(opens_at__lte=local_time, closes_at__gt=local_time)
    return {
        schedule.service_id for schedule in rows.only(
            "id", "service_id", "freq", "interval", "byday", "bymonthday", "dtstart", "until", "opens_at", "closes_at")
        if schedules.occurs_on(schedule, local_day)
    }


def services_search(*, search: ServiceSearch, today: datetime.date | None = None) -> QuerySet[Service]:
    """The public services matching `search`, in a stable order (id), with everything HSDS shows."""
    queryset = services_public(today=today)
    if search.text:
        for word in search.text.split():
            queryset = queryset.filter(search_key__contains=search_normalize(word))
    if search.taxonomy_term_id or search.taxonomy_code:
        term = TaxonomyTerm.objects.filter(
            **({"uuid": search.taxonomy_term_id} if search.taxonomy_term_id else {"code": search.taxonomy_code})
        ).first()
        if term is None:
            return queryset.none()
        queryset = queryset.filter(id__in=Attribute.objects.filter(taxonomy_term_id__in=_terms_under(term))
                                   .values("service_id"))
    if search.organization_id:
        queryset = queryset.filter(organization__uuid=search.organization_id)
    if search.district:
        queryset = queryset.filter(
            Q(id__in=Service.objects.filter(Q(service_areas__district__code=search.district)
                                            | Q(service_areas__ward_wide=True)).values("id"))
            | Q(id__in=Service.objects.filter(service_at_locations__location__district__code=search.district)
                .values("id")))
    if search.postcode:
        code = postal_code_normalize(search.postcode)
        queryset = queryset.filter(
            Q(id__in=Service.objects.filter(Q(service_areas__postal_code=code) | Q(service_areas__ward_wide=True))
              .values("id"))
            | Q(id__in=Service.objects.filter(service_at_locations__location__postal_code=code).values("id")))
    if search.language:
        queryset = queryset.filter(id__in=Service.objects.filter(languages__code=search.language).values("id"))
    if search.modified_after:
        queryset = queryset.filter(updated_at__gt=search.modified_after)
    if search.open_at or search.open_on:
        queryset = queryset.filter(id__in=_open_service_ids(queryset, moment=search.open_at, day=search.open_on))
    return _with_details(queryset.order_by("id"))


def service_public_get(*, service_id: str, today: datetime.date | None = None) -> Service:
    """One public service by its HSDS id; anything not in the public listing is missing (404)."""
    service = _with_details(services_public(today=today)).filter(uuid=service_id).first()
    if service is None:
        raise NotFound(field="id")
    return service


def taxonomy_terms_public(*, text: str = "", parent_id: str = "", top_only: bool = False) -> QuerySet[TaxonomyTerm]:
    terms = TaxonomyTerm.objects.select_related("taxonomy", "parent").order_by("code")
    if top_only:
        terms = terms.filter(parent__isnull=True)
    if parent_id:
        terms = terms.filter(parent__uuid=parent_id)
    if text:
        key = search_normalize(text)
        terms = [term for term in terms if key in search_normalize(f"{term.name}{term.name_kana}{term.name_en}")]
    return terms


def taxonomy_term_public_get(*, term_id: str) -> TaxonomyTerm:
    term = TaxonomyTerm.objects.select_related("taxonomy", "parent").filter(uuid=term_id).first()
    if term is None:
        raise NotFound(field="id")
    return term


def organizations_public() -> QuerySet[DirectoryOrganization]:
    """Organisations with at least one publicly listed service."""
    return DirectoryOrganization.objects.filter(
        id__in=services_public().values("organization_id")).prefetch_related("phones", "contacts").order_by("id")


def organization_public_get(*, organization_id: str) -> DirectoryOrganization:
    organization = organizations_public().filter(uuid=organization_id).first()
    if organization is None:
        raise NotFound(field="id")
    return organization


# --- The listings a member manages -----------------------------------------------------------------

def listings_managed_by(*, user) -> QuerySet[Service]:
    """Listings the user's organisations run, and for the ward section's members every listing (they
    approve them). Everyone else: none."""
    return _with_details(Service.objects.filter(listing_managed_by(actor=actor_for(user=user))).annotate(
        referred_count=Count("referrals", filter=Q(referrals__requested_at__isnull=False), distinct=True),
        completed_count=Count("referrals", filter=Q(referrals__status=ReferralStatus.COMPLETED), distinct=True),
    ).order_by("id"))


def listing_get_for_user(*, user, listing_id: int) -> Service:
    listing = listings_managed_by(user=user).filter(id=listing_id).first()
    if listing is None:
        raise NotFound(field="id")
    return listing


# --- The directory as a referral target --------------------------------------------------------------

SMALL_COUNT = 10  # counts below this are not shown (statistics rule: a small count can point at a person)


def service_referral_target(*, service_id: str, receiver_organization_id: int | None = None) -> Service:
    """A public service a worker refers to: its organisation (one of ours) receives the referral; a receiver
    named beside it must be that organisation."""
    service = services_public().select_related("organization__organization").filter(uuid=service_id).first()
    if service is None:
        raise NotFound(field="service")
    if service.organization.organization_id is None:
        raise RuleViolation("service_not_referrable", field="service")
    if receiver_organization_id is not None and receiver_organization_id != service.organization.organization_id:
        raise RuleViolation("service_receiver_mismatch", field="receiver_organization")
    return service


def listing_referral_counts(*, service: Service) -> dict[str, int | None]:
    """How many referrals named this service, and how many were completed: each count only when it is at
    least SMALL_COUNT, else None (shown as "fewer than 10")."""
    if hasattr(service, "referred_count"):  # counted with the listing (listings_managed_by)
        counts = {"referred": service.referred_count, "completed": service.completed_count}
    else:
        counts = Referral.objects.filter(service=service).aggregate(
            referred=Count("id", filter=Q(requested_at__isnull=False)),
            completed=Count("id", filter=Q(status=ReferralStatus.COMPLETED)))
    return {name: value if value >= SMALL_COUNT else None for name, value in counts.items()}
