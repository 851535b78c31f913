"""Disaster mode: the evacuation-support list (避難行動要支援者名簿), individual plans, events and safety checks.

The list (Disaster Countermeasures Basic Act Art. 49-10) holds exactly the fields the law and the
ward's ordinance name — name, kana, birth date, sex, address, contact, the reason help is needed —
read from the register (`Resident`) plus the two the register lacks (sex, the reason). It goes to
supporters in peacetime only with the resident's consent (purpose `disaster_evacuation`, Art.
49-11-2) and, while a declared disaster event lasts, without consent under `DCBA49-11-3`
(legal-basis grants of the event, one per supporter organisation and resident). Who sees what is
the policy's (permissions/policy/rules.py); these records hold data only.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.directory import District, Organization, Ward
from cases.models.residents import Resident


class Sex(models.TextChoices):
    FEMALE = "female", "女"
    MALE = "male", "男"
    OTHER = "other", "その他"
    UNKNOWN = "unknown", "不明"


class EntrySource(models.TextChoices):
    CRITERIA = "criteria", "基準による掲載"
    MANUAL = "manual", "個別の追加"


class EntryStatus(models.TextChoices):
    LISTED = "listed", "掲載"
    REMOVED = "removed", "除外"


class ListReason(models.TextChoices):
    """Why a person needs help to evacuate (the list's reason field), as codes with Japanese labels."""

    AGE = "age", "高齢"
    HOUSEHOLD = "household", "世帯状況（独居・高齢者のみ）"
    SPECIAL_CARE = "special_care", "配慮事項"
    MANUAL = "manual", "個別の申出・判断"


class EvacuationListEntry(models.Model):
    """One person on the ward's evacuation-support list. A manual removal sticks: a refresh never re-adds it."""

    resident = models.OneToOneField(Resident, on_delete=models.PROTECT, related_name="evacuation_entry")
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", db_index=False)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    reasons = models.JSONField(default=list, help_text="ListReason codes, plus the special-care codes that matched.")
    source = models.CharField(max_length=10, choices=EntrySource.choices)
    status = models.CharField(max_length=8, choices=EntryStatus.choices, default=EntryStatus.LISTED)
    change_reason = models.CharField(max_length=200, blank=True, help_text="Why it was added or removed by hand.")
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = AuditedManager()

    class Meta:
        verbose_name_plural = "evacuation list entries"
        permissions = [("view_evacuation_plan", "Can view the entry's individual evacuation plan")]
        indexes = [models.Index(fields=["ward", "status"])]

    def __str__(self) -> str:
        return f"Evacuation list entry {self.pk}"


class HelpNeed(models.TextChoices):
    MOBILITY = "mobility", "移動の介助"
    OXYGEN = "oxygen", "在宅酸素"
    DIALYSIS = "dialysis", "人工透析"
    OTHER_MEDICAL_DEVICE = "other_medical_device", "その他の医療機器"
    INTERPRETER = "interpreter", "通訳"
    PETS = "pets", "ペット同行"


class EvacuationPlan(models.Model):
    """An individual evacuation plan (個別避難計画, Art. 49-14). Never edited: a new version supersedes the old.

    `supporters` is a list of {name, role, organization (id or null)}: the people who help, by name
    and role; the organisations among them receive the plan by the resident's consent.
    """

    entry = models.ForeignKey(EvacuationListEntry, on_delete=models.PROTECT, related_name="plans", db_index=False)
    supporters = models.JSONField()
    destination = models.CharField(max_length=200, help_text="Where the person goes (a shelter's name, as text).")
    needs = models.JSONField(default=list, help_text="HelpNeed codes.")
    needs_note = models.CharField(max_length=500, blank=True)
    contact = models.CharField(max_length=200, blank=True, help_text="How to reach the person or family.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditedManager()

    class Meta:
        indexes = [models.Index(fields=["entry", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"Evacuation plan {self.pk}"

    @property
    def supporter_organization_ids(self) -> set[int]:
        return {s["organization"] for s in self.supporters if s.get("organization")}


class DisasterKind(models.TextChoices):
    EARTHQUAKE = "earthquake", "地震"
    TYPHOON = "typhoon", "台風"
    FLOOD = "flood", "洪水・内水氾濫"
    LANDSLIDE = "landslide", "土砂災害"
    FIRE = "fire", "大規模火災"
    OTHER = "other", "その他"


class EventStatus(models.TextChoices):
    ACTIVE = "active", "発令中"
    CLOSED = "closed", "終了"


class DisasterEvent(models.Model):
    """A disaster (or an exercise) declared by the ward section over some districts.

    `client_id` is made by the declaring client: a retried declaration finds this event instead of
    declaring a second one. `checks_cursor` is the last resident whose safety check (and, outside an
    exercise, whose grants) the campaign opened; `checks_opened_at` is set when every one is open.
    """

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", db_index=False)
    client_id = models.UUIDField(unique=True)
    kind = models.CharField(max_length=12, choices=DisasterKind.choices)
    exercise = models.BooleanField(default=False, help_text="An exercise (訓練): consented residents only.")
    districts = models.ManyToManyField(District, related_name="+")
    supporter_organizations = models.ManyToManyField(Organization, related_name="+")
    starts_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=EventStatus.choices, default=EventStatus.ACTIVE)
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    checks_cursor = models.BigIntegerField(default=0)
    checks_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["ward", "status"])]

    def __str__(self) -> str:
        return f"Disaster event {self.pk}"

    @property
    def mark(self) -> str:
        """The exercise mark every output and notification of an exercise carries."""
        return "【訓練】" if self.exercise else ""


class CheckOutcome(models.TextChoices):
    SAFE_AT_HOME = "safe_at_home", "在宅・無事"
    EVACUATED = "evacuated", "避難済み"
    INJURED = "injured", "負傷"
    MISSING = "missing", "行方不明"
    NOT_REACHED = "not_reached", "未確認（連絡つかず）"


class SafetyCheckReport(models.Model):
    """One outcome of a disaster safety check, recorded on a phone (offline) and uploaded once per client_id."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="reports")
    task = models.ForeignKey("cases.Task", on_delete=models.PROTECT, related_name="check_reports", db_index=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField()
    outcome = models.CharField(max_length=12, choices=CheckOutcome.choices)
    evacuated_to = models.CharField(max_length=200, blank=True)
    observed_at = models.DateTimeField()
    uploaded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    objects = AuditedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recorded_by", "client_id"], name="check_report_once")]
        indexes = [models.Index(fields=["task", "-observed_at"])]

    def __str__(self) -> str:
        return f"Safety check report {self.pk}"
