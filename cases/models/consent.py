"""Consent and the other legal bases for sharing a resident's data (APPI, 個人情報保護法).

Every share names its basis: a consent record (or its absence, or a refusal),
or a time-limited legal-basis grant. The access policy (permissions/policy/rules.py)
reads these rows; nothing else decides who sees what.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.cases import Case
from cases.models.directory import Organization
from cases.models.residents import Resident


class Category(models.TextChoices):
    BASIC = "basic", "基本情報"
    LIVING_SITUATION = "living_situation", "生活状況"
    HEALTH = "health", "健康"
    DISABILITY = "disability", "障害"
    FAMILY = "family", "家族"
    FINANCES = "finances", "経済状況"
    SAFEGUARDING = "safeguarding", "権利擁護・虐待"


class Purpose(models.TextChoices):
    WATCH_OVER = "watch_over", "見守り"
    REFERRAL = "referral", "つなぎ（紹介）"
    DISASTER_EVACUATION = "disaster_evacuation", "災害時避難支援"
    CASE_CONFERENCE = "case_conference", "ケース会議"


class Decision(models.TextChoices):
    GRANTED = "granted", "同意"
    REFUSED = "refused", "不同意"


class Grantor(models.TextChoices):
    SELF = "self", "本人"
    FAMILY = "family", "家族"
    LEGAL_GUARDIAN = "legal_guardian", "成年後見人"
    OTHER_PROXY = "other_proxy", "その他の代理人"


class Method(models.TextChoices):
    WRITTEN = "written", "書面"
    ORAL = "oral", "口頭"
    ELECTRONIC = "electronic", "電子"


class Consent(models.Model):
    """A resident's decision about sharing: recipients × categories × purposes × period.

    For each (recipient, category, purpose) the most recent decision that is
    neither withdrawn nor outside its period wins, so a later refusal overrides
    an earlier consent and a later consent overrides an earlier refusal.
    """

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="consents", db_index=False)
    decision = models.CharField(max_length=8, choices=Decision.choices, default=Decision.GRANTED)
    grantor = models.CharField(max_length=16, choices=Grantor.choices)
    proxy_name = models.CharField(max_length=60, blank=True, help_text="Who decided, when not the resident.")
    recipient_organizations = models.ManyToManyField(Organization, blank=True, related_name="consents_received")
    recipient_kinds = models.JSONField(default=list, blank=True)
    categories = models.JSONField()
    purposes = models.JSONField()
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=12, choices=Method.choices)
    evidence = models.CharField(max_length=100, blank=True, help_text="e.g. the form number.")
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_by_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_grantor = models.CharField(max_length=16, choices=Grantor.choices, blank=True)
    withdrawal_note = models.CharField(max_length=200, blank=True)

    objects = AuditedManager()

    class Meta:
        indexes = [models.Index(fields=["resident", "taken_at"])]

    def __str__(self) -> str:
        return f"Consent {self.pk}"


class LegalBasis(models.TextChoices):
    VITAL_INTERESTS = "APPI27-1-2", "生命・身体・財産の保護（本人同意困難）"
    REQUIRED_BY_LAW = "APPI27-1-1", "法令に基づく場合"
    PUBLIC_BODY = "APPI27-1-4", "国の機関等への協力"
    SUPPORT_MEETING = "SWA106-6", "支援会議（社会福祉法第106条の6）"
    DISASTER = "DCBA49-11-3", "災害時の避難行動要支援者名簿の提供（災害対策基本法第49条の11第3項）"


class GrantStatus(models.TextChoices):
    PENDING = "pending", "承認待ち"
    ACTIVE = "active", "有効"
    REVOKED = "revoked", "取消"


class LegalBasisGrant(models.Model):
    """Time-limited access without consent, on a named legal basis, reviewed afterwards."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="legal_basis_grants", db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="legal_basis_grants")
    basis = models.CharField(max_length=16, choices=LegalBasis.choices)
    categories = models.JSONField()
    justification = models.TextField(max_length=2000)
    meeting = models.ForeignKey(
        "SupportMeeting", on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    disaster_event = models.ForeignKey(
        "DisasterEvent", on_delete=models.PROTECT, null=True, blank=True, related_name="grants",
        help_text="DCBA49-11-3: the event whose list this grant provides (the list's fields only).",
    )
    status = models.CharField(max_length=8, choices=GrantStatus.choices, default=GrantStatus.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    review_due_at = models.DateTimeField()
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_justified = models.BooleanField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditedManager()

    class Meta:
        indexes = [models.Index(fields=["resident", "status"]), models.Index(fields=["review_due_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_at__gt=models.F("starts_at")), name="grant_period_ordered"),
            # A retried chunk of a declaration provides each resident to each supporter once.
            models.UniqueConstraint(fields=["disaster_event", "organization", "resident"],
                                    condition=models.Q(disaster_event__isnull=False), name="grant_once_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.basis} grant {self.pk}"


class SupportMeeting(models.Model):
    """A support meeting (支援会議): members may share about its cases, bound to confidentiality."""

    title = models.CharField(max_length=100)
    convened_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="convened_meetings")
    held_at = models.DateTimeField()
    ends_at = models.DateTimeField(help_text="Sharing under SWA106-6 lasts until then.")
    cases = models.ManyToManyField(Case, related_name="support_meetings")
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditedManager()

    def __str__(self) -> str:
        return self.title


class MeetingMember(models.Model):
    meeting = models.ForeignKey(SupportMeeting, on_delete=models.CASCADE, related_name="members", db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    confidentiality_acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="meeting_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} in {self.meeting}"
