"""The directory's records, one model per HSDS 3.0 table (organization, service, location,
service_at_location, schedule, service_area, phone, contact, language, taxonomy, taxonomy_term,
attribute, metadata).

Every record has an integer key for our own routes and a UUID, its HSDS `id`, for the public ones.
Japanese text comes first, with its reading (kana) for search and an optional English version.
Nothing here is about a resident: the directory is public by design and holds no personal data
(a contact is a desk or a role, not a person's private details).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import District, Organization, Ward


def _uuid() -> uuid.UUID:
    return uuid.uuid4()


class ServiceStatus(models.TextChoices):
    ACTIVE = "active", "実施中"
    INACTIVE = "inactive", "休止"
    DEFUNCT = "defunct", "終了"
    TEMPORARILY_CLOSED = "temporarily closed", "一時休止"


class Approval(models.TextChoices):
    """A new listing is public only once the ward section approved it."""

    PENDING = "pending", "承認待ち"
    APPROVED = "approved", "承認済み"
    REJECTED = "rejected", "非承認"


class CapacityStatus(models.TextChoices):
    """Whether the service can take someone now (the Gravity capacity extension's three states)."""

    AVAILABLE = "available", "受入可"
    WAITLIST = "waitlist", "空き待ち"
    FULL = "full", "満員"


class Frequency(models.TextChoices):
    WEEKLY = "WEEKLY", "毎週"
    MONTHLY = "MONTHLY", "毎月"


class LocationType(models.TextChoices):
    PHYSICAL = "physical", "所在地"
    POSTAL = "postal", "郵送先"
    VIRTUAL = "virtual", "オンライン"


class DirectoryOrganization(models.Model):
    """An HSDS organization: whoever runs listed services. `organization` links it to one of ours
    when the directory organisation is a member organisation here (its members edit its listings)."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+",
                             help_text="The ward whose section approves its listings.")
    organization = models.OneToOneField(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="directory_entry",
    )
    name = models.CharField(max_length=150)
    name_kana = models.CharField(max_length=200, blank=True)
    name_en = models.CharField(max_length=150, blank=True)
    alternate_name = models.CharField(max_length=150, blank=True)
    description = models.TextField(max_length=4000)
    description_en = models.TextField(max_length=4000, blank=True)
    email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    legal_status = models.CharField(max_length=60, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Service(models.Model):
    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    organization = models.ForeignKey(DirectoryOrganization, on_delete=models.PROTECT, related_name="services")
    name = models.CharField(max_length=150)
    name_kana = models.CharField(max_length=200, blank=True)
    name_en = models.CharField(max_length=150, blank=True)
    alternate_name = models.CharField(max_length=150, blank=True)
    description = models.TextField(max_length=4000)
    description_en = models.TextField(max_length=4000, blank=True)
    url = models.URLField(blank=True)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE)
    interpretation_services = models.CharField(max_length=500, blank=True)
    application_process = models.TextField(max_length=2000, blank=True)
    fees_description = models.CharField(max_length=500, blank=True)
    eligibility_description = models.TextField(max_length=2000, blank=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    alert = models.CharField(max_length=500, blank=True)

    assured_date = models.DateField(help_text="When the listing was last checked as true (not when it was edited).")
    assurer_email = models.EmailField(blank=True)
    approval = models.CharField(max_length=10, choices=Approval.choices, default=Approval.PENDING)
    capacity_status = models.CharField(max_length=10, choices=CapacityStatus.choices, blank=True)
    capacity_note = models.CharField(max_length=300, blank=True)
    capacity_updated_at = models.DateTimeField(null=True, blank=True)

    search_key = models.TextField(editable=False, default="", help_text="Normalised text searched (kana_normalize).")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["approval", "status", "assured_date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True) | Q(maximum_age__isnull=True)
                | Q(minimum_age__lte=models.F("maximum_age")),
                name="service_age_range_ordered",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Location(models.Model):
    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.PROTECT, null=True, blank=True, related_name="locations",
    )
    location_type = models.CharField(max_length=10, choices=LocationType.choices, default=LocationType.PHYSICAL)
    name = models.CharField(max_length=150)
    name_kana = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=1000, blank=True)
    transportation = models.CharField(max_length=500, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # One physical address (HSDS address): a public place, never a home.
    address_1 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=60, default="川崎市多摩区")
    state_province = models.CharField(max_length=20, default="神奈川県")
    postal_code = models.CharField(max_length=7, blank=True, help_text="Seven digits, no hyphen.")
    country = models.CharField(max_length=2, default="JP")
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    accessibility_description = models.CharField(max_length=500, blank=True)
    accessibility_details = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["postal_code"])]

    def __str__(self) -> str:
        return self.name


class ServiceAtLocation(models.Model):
    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_at_locations", db_index=False)
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="service_at_locations")
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["service", "location"], name="service_at_location_unique")]

    def __str__(self) -> str:
        return f"{self.service_id} @ {self.location_id}"


class Schedule(models.Model):
    """When a service is open, as HSDS has it: an RFC 5545 RRULE in parts (freq, interval, byday,
    bymonthday) from `dtstart`, open from `opens_at` to `closes_at` local time (Asia/Tokyo)."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="schedules")
    service_at_location = models.ForeignKey(
        ServiceAtLocation, on_delete=models.CASCADE, null=True, blank=True, related_name="schedules",
    )
    freq = models.CharField(max_length=8, choices=Frequency.choices)
    interval = models.PositiveSmallIntegerField(default=1)
    byday = models.CharField(max_length=40, blank=True, help_text='RFC 5545 BYDAY: "MO,TH", or "2TU" monthly.')
    bymonthday = models.CharField(max_length=40, blank=True, help_text='RFC 5545 BYMONTHDAY: "1,15".')
    dtstart = models.DateField()
    until = models.DateField(null=True, blank=True)
    opens_at = models.TimeField()
    closes_at = models.TimeField()
    description = models.CharField(max_length=300, blank=True)
    notes = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(opens_at__lt=models.F("closes_at")),
                                   name="schedule_opens_before_closes"),
            models.CheckConstraint(condition=Q(interval__gte=1), name="schedule_interval_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.freq} {self.byday or self.bymonthday} {self.opens_at}-{self.closes_at}"


class ServiceArea(models.Model):
    """Where a service is for: a commissioner district, a postal code, or the whole ward."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="service_areas")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    postal_code = models.CharField(max_length=7, blank=True)
    ward_wide = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class Phone(models.Model):
    """A public number of a service, organisation or location (a desk, never a person's own phone)."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="phones")
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.CASCADE, null=True, blank=True, related_name="phones",
    )
    number = models.CharField(max_length=20)
    type = models.CharField(max_length=10, default="voice")
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.number


class Contact(models.Model):
    """A desk or role to ask (e.g. 地域支援担当), with its public e-mail."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts")
    organization = models.ForeignKey(
        DirectoryOrganization, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts",
    )
    title = models.CharField(max_length=100)
    department = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class ServiceLanguage(models.Model):
    """A language spoken at the service (not only through an interpreter)."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="languages", db_index=False)
    code = models.CharField(max_length=8, help_text="ISO 639-1.")
    name = models.CharField(max_length=40)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["service", "code"], name="service_language_unique")]

    def __str__(self) -> str:
        return self.code


class Taxonomy(models.Model):
    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    name = models.CharField(max_length=100, unique=True)
    description = models.CharField(max_length=300)
    version = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "taxonomies"

    def __str__(self) -> str:
        return self.name


class TaxonomyTerm(models.Model):
    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="terms")
    code = models.CharField(max_length=20, unique=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    name = models.CharField(max_length=60)
    name_kana = models.CharField(max_length=100)
    name_en = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Attribute(models.Model):
    """A service classified by a taxonomy term (HSDS attribute, link_entity "service")."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attributes", db_index=False)
    taxonomy_term = models.ForeignKey(TaxonomyTerm, on_delete=models.PROTECT, related_name="attributes")
    value = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["service", "taxonomy_term"], name="attribute_unique")]

    def __str__(self) -> str:
        return f"{self.service_id}: {self.taxonomy_term_id}"


class MetadataEntry(models.Model):
    """HSDS metadata: who changed which field of a listing, when, from what to what. `updated_by` is the
    organisation that made the change (public); the member who did it is kept for us only."""

    uuid = models.UUIDField(default=_uuid, unique=True, editable=False)
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="metadata")
    last_action_date = models.DateField(default=timezone.localdate)
    last_action_type = models.CharField(max_length=10)  # create, update, assure, approve
    field_name = models.CharField(max_length=60)
    previous_value = models.CharField(max_length=500, blank=True)
    replacement_value = models.CharField(max_length=500, blank=True)
    updated_by = models.CharField(max_length=150)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.last_action_type} {self.field_name}"

