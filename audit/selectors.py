"""Reads for the privacy officer: the access log, who saw a resident, unusual access, provisions, rights, holds.

Only a privacy officer (Role.PRIVACY_OFFICER, an active membership) sees any of
it, and only about residents of their own ward(s). Everyone else gets the same
404 as for a record that does not exist.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Max, Min, QuerySet

from audit.access_log import access_log_reads
from audit.models import AccessLogEntry, Action, LegalHold, ProvisionRecord, RightsRequest
from cases.errors import NotFound
from cases.models import Case, Resident, User
from permissions.actors import actor_for

# The report's rule (docs/architecture.md, "Audit"): a reader who, in the period, read at least
# `threshold` distinct residents only through third-party bases (consent, legal bases, meetings,
# referrals) — residents outside their own caseload (district, case lead, registration, authorship).
UNUSUAL_DEFAULT_THRESHOLD = 20
UNUSUAL_DEFAULT_PERIOD = datetime.timedelta(days=7)
READ_ACTIONS = (Action.READ, Action.EXPORT)


def privacy_officer_wards(*, user: User) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return sorted(actor_for(user=user).privacy_officer_ward_ids)


def _wards(user: User) -> list[int]:
    wards = privacy_officer_wards(user=user)
    if not wards:
        raise NotFound()
    return wards


def _residents_of(wards: list[int]) -> QuerySet[Resident]:
    return Resident.objects.filter(district__council_area__ward_id__in=wards)


def resident_for_privacy_officer(*, user: User, resident_id: int, field: str | None = None) -> Resident:
    wards = privacy_officer_wards(user=user)
    resident = _residents_of(wards).select_related("district__council_area", "registered_by") \
        .filter(pk=resident_id).first() if wards else None
    if resident is None:
        raise NotFound(field=field)
    return resident


def access_log_search(*, user: User) -> QuerySet[AccessLogEntry]:
    """Entries about residents of the officer's ward(s), newest first (filter by resident, user, period)."""
    residents = _residents_of(_wards(user)).values("id")
    return AccessLogEntry.objects.filter(resident_id__in=residents).order_by("-id")


@dataclass
class Reader:
    user_id: int | None
    username: str
    reads: int
    first_at: datetime.datetime
    last_at: datetime.datetime
    kinds: list[str]
    bases: list[str]


def resident_readers(*, user: User, resident_id: int, since: datetime.datetime | None = None,
                     until: datetime.datetime | None = None) -> list[Reader]:
    """Who saw this resident's data (reads and exports), most recent first."""
    resident = resident_for_privacy_officer(user=user, resident_id=resident_id)
    entries = AccessLogEntry.objects.filter(resident_id=resident.id, action__in=READ_ACTIONS)
    if since is not None:
        entries = entries.filter(at__gte=since)
    if until is not None:
        entries = entries.filter(at__lt=until)
    kinds, bases = defaultdict(set), defaultdict(set)
    for reader_id, kind, entry_bases in entries.values_list("user_id", "kind", "bases").distinct():
        kinds[reader_id].add(kind)
        bases[reader_id].update(entry_bases)
    rows = entries.values("user_id", "username").annotate(reads=Count("id"), first_at=Min("at"), last_at=Max("at"))
    access_log_reads(kind="readers", resident_ids=[resident.id], categories=["basic"], basis="privacy_officer",
                     object_ids=[resident.id], user=user, route="readers")
    return [
        Reader(row["user_id"], row["username"], row["reads"], row["first_at"], row["last_at"],
               sorted(kinds[row["user_id"]]), sorted(bases[row["user_id"]]))
        for row in sorted(rows, key=lambda r: (r["last_at"], r["user_id"] or 0), reverse=True)
    ]


@dataclass
class UnusualReader:
    user_id: int | None
    username: str
    residents_outside_caseload: int
    residents_read: int
    reads_outside_caseload: int
    first_at: datetime.datetime
    last_at: datetime.datetime


def unusual_access(*, user: User, since: datetime.datetime, until: datetime.datetime,
                   threshold: int = UNUSUAL_DEFAULT_THRESHOLD) -> list[UnusualReader]:
    """Readers with at least `threshold` distinct residents read only through third-party bases in [since, until)."""
    residents = _residents_of(_wards(user)).values("id")
    period = AccessLogEntry.objects.filter(resident_id__in=residents, action=Action.READ, at__gte=since, at__lt=until,
                                           user_id__isnull=False)
    flagged = list(
        period.filter(outside_caseload=True).values("user_id", "username")
        .annotate(residents=Count("resident_id", distinct=True), reads=Count("id"), first_at=Min("at"),
                  last_at=Max("at"))
        .filter(residents__gte=threshold).order_by("-residents", "user_id")
    )
    totals = dict(
        period.filter(user_id__in=[row["user_id"] for row in flagged]).values("user_id")
        .annotate(n=Count("resident_id", distinct=True)).values_list("user_id", "n")
    )
    return [
        UnusualReader(row["user_id"], row["username"], row["residents"], totals.get(row["user_id"], 0), row["reads"],
                      row["first_at"], row["last_at"])
        for row in flagged
    ]


def provisions_search(*, user: User) -> QuerySet[ProvisionRecord]:
    """Provision records about residents of the officer's ward(s), newest first."""
    residents = _residents_of(_wards(user)).values("id")
    return ProvisionRecord.objects.filter(resident_id__in=residents).select_related("recipient").order_by("-id")


def rights_requests_for(*, user: User) -> QuerySet[RightsRequest]:
    return RightsRequest.objects.filter(ward_id__in=_wards(user)).order_by("-id")


def rights_request_get_for_user(*, user: User, request_id: int) -> RightsRequest:
    found = rights_requests_for(user=user).filter(pk=request_id).first()
    if found is None:
        raise NotFound()
    return found


def legal_holds_for(*, user: User) -> QuerySet[LegalHold]:
    residents = _residents_of(_wards(user)).values("id")
    return LegalHold.objects.filter(case__resident_id__in=residents).select_related("case").order_by("-id")


def legal_hold_get_for_user(*, user: User, hold_id: int) -> LegalHold:
    found = legal_holds_for(user=user).filter(pk=hold_id).first()
    if found is None:
        raise NotFound()
    return found


def case_for_privacy_officer(*, user: User, case_id: int, field: str | None = None) -> Case:
    wards = privacy_officer_wards(user=user)
    case = Case.objects.filter(pk=case_id, resident_id__in=_residents_of(wards).values("id")).first() if wards else None
    if case is None:
        raise NotFound(field=field)
    return case
