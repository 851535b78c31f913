"""Writes to the directory: members propose, edit and re-verify their organisation's listings and say
whether there is room; the ward section approves new listings; a sweep asks for re-verification.

Each write calls its guard first, runs in one transaction with its HSDS metadata rows (who changed
which field from what to what), and, after commit, moves the public cache on to a new generation so
no cached public answer outlives the change.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.errors import Conflict, PreconditionFailed, RuleViolation
from cases.models import District, Organization, User
from cases.models.choices import OrganizationKind
from cases.models.escalations import TaskKind
from cases.services.tasks import task_open, tasks_close
from permissions.actors import actor_for
from permissions.guards import (
    authorize_listing_approve,
    authorize_listing_edit,
    listing_organization_for,
)
from service_directory import schedules as schedule_rules
from service_directory.models import (
    Approval,
    Attribute,
    CapacityStatus,
    Contact,
    DirectoryOrganization,
    Location,
    MetadataEntry,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceLanguage,
    TaxonomyTerm,
)
from service_directory.selectors import listing_get_for_user, reverify_before, search_normalize, unlist_before

GENERATION_KEY = "service_directory:generation"
LANGUAGE_NAMES = {"ja": "日本語", "en": "English", "zh": "中文", "ko": "한국어", "vi": "Tiếng Việt",
                  "tl": "Tagalog", "pt": "Português", "ne": "नेपाली", "es": "Español"}
EDITABLE_FIELDS = ("name", "name_kana", "name_en", "alternate_name", "description", "description_en", "url",
                   "email", "status", "interpretation_services", "application_process", "fees_description",
                   "eligibility_description", "minimum_age", "maximum_age", "alert")


def directory_generation() -> int:
    """The public cache's generation: part of every cached answer's key."""
    return cache.get_or_set(GENERATION_KEY, 1, timeout=None)


def directory_changed() -> None:
    """Called after a write commits: cached public answers of older generations are never read again."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 2, timeout=None)


def service_search_key(service: Service) -> str:
    """What the public text search looks in: names and readings, the description, its taxonomy terms."""
    terms = TaxonomyTerm.objects.filter(attributes__service=service).values_list("name", "name_kana", "name_en")
    parts = [service.name, service.name_kana, service.name_en, service.alternate_name, service.description,
             service.description_en, *(part for term in terms for part in term)]
    return "\n".join(search_normalize(part) for part in parts if part)


def _record(service: Service, *, action: str, user: User | None, by: str,
            changes: Iterable[tuple[str, object, object]]) -> None:
    MetadataEntry.objects.bulk_create(
        MetadataEntry(service=service, last_action_type=action, field_name=field, user=user, updated_by=by,
                      previous_value="" if old is None else str(old)[:500],
                      replacement_value="" if new is None else str(new)[:500])
        for field, old, new in changes
    )


def _validate(fields: dict) -> None:
    low, high = fields.get("minimum_age"), fields.get("maximum_age")
    if low is not None and high is not None and low > high:
        raise RuleViolation("listing_age_range", field="maximum_age")


def _set_terms(service: Service, codes: list[str]) -> None:
    terms = list(TaxonomyTerm.objects.filter(code__in=codes))
    if len(terms) != len(set(codes)):
        raise RuleViolation("taxonomy_term_unknown", field="taxonomy_codes")
    Attribute.objects.filter(service=service).exclude(taxonomy_term__in=terms).delete()
    existing = set(Attribute.objects.filter(service=service).values_list("taxonomy_term_id", flat=True))
    Attribute.objects.bulk_create(Attribute(service=service, taxonomy_term=t) for t in terms if t.id not in existing)


def _set_schedules(service: Service, rows: list[dict]) -> None:
    for row in rows:
        if not schedule_rules.byday_valid(row.get("byday", "")):
            raise RuleViolation("schedule_invalid", field="schedules")
        if not schedule_rules.bymonthday_valid(row.get("bymonthday", "")):
            raise RuleViolation("schedule_invalid", field="schedules")
        if row["opens_at"] >= row["closes_at"]:
            raise RuleViolation("schedule_invalid", field="schedules")
    Schedule.objects.filter(service=service).delete()
    Schedule.objects.bulk_create(
        Schedule(service=service, freq=row["freq"], interval=row.get("interval", 1), byday=row.get("byday", ""),
                 bymonthday=row.get("bymonthday", ""), dtstart=row.get("dtstart") or timezone.localdate(),
                 until=row.get("until"), opens_at=row["opens_at"], closes_at=row["closes_at"],
                 description=row.get("description", ""))
        for row in rows
    )


def _directory_organization(organization: Organization) -> DirectoryOrganization:
    entry, _ = DirectoryOrganization.objects.get_or_create(
        organization=organization,
        defaults={"ward_id": organization.ward_id, "name": organization.name, "description": organization.name},
    )
    return entry


def listing_propose(*, user: User, organization_id: int | None, fields: dict, taxonomy_codes: list[str],
                    language_codes: list[str], schedules: list[dict], district_ids: list[int]) -> Service:
    """A member proposes a listing for their organisation; it is public once the ward section approves."""
    organization = Organization.objects.get(
        id=listing_organization_for(actor=actor_for(user=user), organization_id=organization_id))
    _validate(fields)
    with transaction.atomic():
        entry = _directory_organization(organization)
        service = Service.objects.create(organization=entry, assured_date=timezone.localdate(),
                                         approval=Approval.PENDING, **fields)
        _set_terms(service, taxonomy_codes)
        ServiceLanguage.objects.bulk_create(
            ServiceLanguage(service=service, code=code, name=LANGUAGE_NAMES.get(code, code))
            for code in dict.fromkeys(language_codes))
        _set_schedules(service, schedules)
        ServiceArea.objects.bulk_create(
            ServiceArea(service=service, district_id=district_id, name=str(district_id))
            for district_id in dict.fromkeys(district_ids))
        for area in service.service_areas.select_related("district"):
            area.name = area.district.name
            area.save(update_fields=["name"])
        Service.objects.filter(id=service.id).update(search_key=service_search_key(service))
        _record(service, action="create", user=user, by=organization.name,
                changes=[(name, None, value) for name, value in fields.items() if value not in (None, "")])
        transaction.on_commit(directory_changed)
    return listing_get_for_user(user=user, listing_id=service.id)


def _locked(user: User, listing_id: int) -> Service:
    listing = listing_get_for_user(user=user, listing_id=listing_id)
    return Service.objects.select_related("organization__organization").select_for_update(of=("self",)).get(
        id=listing.id)


def listing_update(*, user: User, listing_id: int, version: int, fields: dict,
                   taxonomy_codes: list[str] | None = None, schedules: list[dict] | None = None) -> Service:
    """Members of the running organisation edit its listing (If-Match: the version they read)."""
    with transaction.atomic():
        service = _locked(user, listing_id)
        authorize_listing_edit(actor=actor_for(user=user), organization_id=service.organization.organization_id,
                               ward_id=service.organization.ward_id)
        if service.version != version:
            raise PreconditionFailed()
        _validate({"minimum_age": fields.get("minimum_age", service.minimum_age),
                   "maximum_age": fields.get("maximum_age", service.maximum_age)})
        changes = [(name, getattr(service, name), value) for name, value in fields.items()
                   if getattr(service, name) != value]
        for name, _old, value in changes:
            setattr(service, name, value)
        if taxonomy_codes is not None:
            _set_terms(service, taxonomy_codes)
            changes.append(("attributes", "", ",".join(sorted(taxonomy_codes))))
        if schedules is not None:
            _set_schedules(service, schedules)
            changes.append(("schedules", "", str(len(schedules))))
        service.version = F("version") + 1
        service.updated_at = timezone.now()
        service.search_key = service_search_key(service)
        service.save()
        _record(service, action="update", user=user, by=service.organization.name, changes=changes)
        transaction.on_commit(directory_changed)
    return listing_get_for_user(user=user, listing_id=listing_id)


def listing_approve(*, user: User, listing_id: int, approve: bool) -> Service:
    """The ward section's supervisor approves (or rejects) a listing waiting for approval."""
    with transaction.atomic():
        service = _locked(user, listing_id)
        approver = authorize_listing_approve(actor=actor_for(user=user),
                                             organization_id=service.organization.organization_id,
                                             ward_id=service.organization.ward_id)
        if service.approval != Approval.PENDING:
            raise Conflict("listing_already_decided")
        decision = Approval.APPROVED if approve else Approval.REJECTED
        Service.objects.filter(id=service.id).update(approval=decision, updated_at=timezone.now(),
                                                     version=F("version") + 1)
        _record(service, action="approve", user=user, by=Organization.objects.get(id=approver).name,
                changes=[("approval", service.approval, decision)])
        transaction.on_commit(directory_changed)
    return listing_get_for_user(user=user, listing_id=listing_id)


def listing_assure(*, user: User, listing_id: int) -> Service:
    """A member confirms the listing is still true: `assured_date` is today, the re-verification task closes."""
    with transaction.atomic():
        service = _locked(user, listing_id)
        authorize_listing_edit(actor=actor_for(user=user), organization_id=service.organization.organization_id,
                               ward_id=service.organization.ward_id)
        today = timezone.localdate()
        Service.objects.filter(id=service.id).update(assured_date=today, assurer_email=service.organization.email,
                                                     version=F("version") + 1)
        tasks_close(tasks=Q(dedupe_key__startswith=f"listing:{service.id}:reverify:"), actor=user,
                    outcome="re-verified")
        _record(service, action="assure", user=user, by=service.organization.name,
                changes=[("assured_date", service.assured_date, today)])
        transaction.on_commit(directory_changed)
    return listing_get_for_user(user=user, listing_id=listing_id)


def listing_capacity_set(*, user: User, listing_id: int, status: str, note: str) -> Service:
    """Whether the service can take someone now (available / waitlist / full), with a note."""
    if status not in CapacityStatus.values:
        raise RuleViolation("capacity_status_invalid", field="status")
    with transaction.atomic():
        service = _locked(user, listing_id)
        authorize_listing_edit(actor=actor_for(user=user), organization_id=service.organization.organization_id,
                               ward_id=service.organization.ward_id)
        now = timezone.now()
        Service.objects.filter(id=service.id).update(capacity_status=status, capacity_note=note,
                                                     capacity_updated_at=now, updated_at=now,
                                                     version=F("version") + 1)
        _record(service, action="update", user=user, by=service.organization.name,
                changes=[("capacity_status", service.capacity_status, status)])
        transaction.on_commit(directory_changed)
    return listing_get_for_user(user=user, listing_id=listing_id)


def _reverifier(service: Service) -> Organization | None:
    """Who is asked to re-verify: the running organisation when it is one of ours, else its ward's section."""
    if service.organization.organization_id:
        return service.organization.organization
    return Organization.objects.filter(ward_id=service.organization.ward_id,
                                       kind=OrganizationKind.WARD_SECTION).order_by("id").first()


def listings_reverification_sweep(*, today: datetime.date | None = None) -> int:
    """Open a re-verification task for every public listing not assured since the re-verification date
    (once per listing and assured date: a re-run opens nothing new). Due when it would leave the public
    listing. Returns how many tasks it opened."""
    today = today or timezone.localdate()
    due = (Service.objects.filter(approval=Approval.APPROVED, assured_date__lt=reverify_before(today),
                                  assured_date__gte=unlist_before(today))
           .exclude(status="defunct").select_related("organization__organization").order_by("id"))
    opened = 0
    for service in due.iterator(chunk_size=500):
        organization = _reverifier(service)
        if organization is None:
            continue
        leaves = service.assured_date + relativedelta(months=settings.DIRECTORY_UNLIST_AFTER_MONTHS)
        due_at = datetime.datetime.combine(leaves, datetime.time(17), tzinfo=schedule_rules.TOKYO)
        _, created = task_open(kind=TaskKind.REVERIFY_LISTING, organization=organization, due_at=due_at,
                               dedupe_key=f"listing:{service.id}:reverify:{service.assured_date.isoformat()}")
        opened += created
    return opened


@dataclass
class ListingImport:
    """One listing as an existing directory hands it over (the ward's list, the demo, the benchmark)."""

    name: str
    description: str
    taxonomy_codes: list[str]
    schedules: list[dict] = field(default_factory=list)
    name_kana: str = ""
    name_en: str = ""
    description_en: str = ""
    eligibility_description: str = ""
    fees_description: str = ""
    application_process: str = ""
    interpretation_services: str = ""
    minimum_age: int | None = None
    maximum_age: int | None = None
    status: str = "active"
    languages: list[str] = field(default_factory=lambda: ["ja"])
    location: dict | None = None  # name, name_kana, address_1, postal_code, district_id, latitude, longitude, ...
    area_district_ids: list[int] = field(default_factory=list)
    ward_wide: bool = False
    phone: str = ""
    contact_title: str = ""
    contact_email: str = ""
    assured_date: datetime.date | None = None
    approval: str = Approval.APPROVED


def listings_import(*, organization: DirectoryOrganization, listings: list[ListingImport],
                    updated_by: str) -> list[Service]:
    """Import listings of one directory organisation (approved unless said otherwise), each with its
    location, schedules, areas, languages, phone, contact, taxonomy terms and a metadata row."""
    terms = {term.code: term for term in TaxonomyTerm.objects.all()}
    districts = {d.id: d for d in District.objects.all()}
    created = []
    with transaction.atomic():
        for spec in listings:
            unknown = set(spec.taxonomy_codes) - set(terms)
            if unknown:
                raise RuleViolation("taxonomy_term_unknown", field="taxonomy_codes")
            service = Service.objects.create(
                organization=organization, name=spec.name, name_kana=spec.name_kana, name_en=spec.name_en,
                description=spec.description, description_en=spec.description_en,
                eligibility_description=spec.eligibility_description, fees_description=spec.fees_description,
                application_process=spec.application_process,
                interpretation_services=spec.interpretation_services, minimum_age=spec.minimum_age,
                maximum_age=spec.maximum_age, status=spec.status, approval=spec.approval,
                assured_date=spec.assured_date or timezone.localdate(), email=spec.contact_email,
            )
            Attribute.objects.bulk_create(Attribute(service=service, taxonomy_term=terms[code])
                                          for code in dict.fromkeys(spec.taxonomy_codes))
            ServiceLanguage.objects.bulk_create(
                ServiceLanguage(service=service, code=code, name=LANGUAGE_NAMES.get(code, code))
                for code in dict.fromkeys(spec.languages))
            at_location = None
            if spec.location:
                location = Location.objects.create(organization=organization, **spec.location)
                at_location = ServiceAtLocation.objects.create(service=service, location=location)
            _set_schedules(service, spec.schedules)
            if at_location is not None:
                Schedule.objects.filter(service=service).update(service_at_location=at_location)
            ServiceArea.objects.bulk_create(
                [ServiceArea(service=service, district_id=d, name=districts[d].name) for d in spec.area_district_ids]
                + ([ServiceArea(service=service, name="多摩区全域", ward_wide=True)] if spec.ward_wide else []))
            if spec.phone:
                Phone.objects.create(service=service, number=spec.phone)
            if spec.contact_title:
                Contact.objects.create(service=service, title=spec.contact_title, email=spec.contact_email)
            Service.objects.filter(id=service.id).update(search_key=service_search_key(service))
            _record(service, action="create", user=None, by=updated_by, changes=[("name", None, spec.name)])
            created.append(service)
        transaction.on_commit(directory_changed)
    return created
