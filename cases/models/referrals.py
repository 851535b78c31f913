"""Referrals (つなぎ): one organisation asks another to take on work about a case.

States follow the FHIR / Gravity closed-loop referral Task. The transition table
(state × action → new state, and which party may act) lives in one place:
`cases/services/referrals.py`. Every change of state writes a `ReferralEvent`
in the same transaction.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.cases import Case
from cases.models.choices import Urgency
from cases.models.directory import Organization
from cases.models.rules import OverdueQuerySet, lookups_hold


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", "下書き"
    REQUESTED = "requested", "依頼中"
    ACCEPTED = "accepted", "受理"
    REJECTED = "rejected", "不受理"
    IN_PROGRESS = "in-progress", "対応中"
    ON_HOLD = "on-hold", "保留"
    COMPLETED = "completed", "完了"
    FAILED = "failed", "対応不能"
    CANCELLED = "cancelled", "取消"
    ENTERED_IN_ERROR = "entered-in-error", "誤登録"


class Referral(models.Model):
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="referrals", db_index=False)
    sender_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="referrals_sent", db_index=False
    )
    sender_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    receiver_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="referrals_received", db_index=False
    )
    receiver_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="A named worker of the receiving organisation (optional: else its queue).",
    )
    service = models.ForeignKey(
        "service_directory.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="referrals",
        help_text="The listed service referred to (its organisation is the receiver).",
    )
    reason = models.TextField(max_length=2000)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    categories = models.JSONField(help_text="Data categories the receiver may see (within consent).")
    status = models.CharField(max_length=20, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True, help_text="Why the last change was made.")
    response_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Answer (accept or reject) by then; set from the urgency when sent."
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    team_member_added = models.BooleanField(
        default=False, help_text="Accepting added the receiver to the case team; closing removes it again."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = OverdueQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["receiver_organization", "status", "response_due_at"]),
            models.Index(fields=["sender_organization", "status", "response_due_at"]),
            models.Index(fields=["case", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(receiver_organization=models.F("sender_organization")), name="referral_not_to_self"
            ),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk}"

    @staticmethod
    def overdue_lookups(now) -> dict:
        """Overdue: still requested (neither accepted nor rejected) after its response deadline."""
        return {"status": ReferralStatus.REQUESTED, "response_due_at__lt": now}

    def is_overdue(self, *, now) -> bool:
        return lookups_hold(self, Referral.overdue_lookups(now))


class ReferralEvent(models.Model):
    """One change of a referral's state: who, when, from, to, why."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events", db_index=False)
    action = models.CharField(max_length=20)
    from_status = models.CharField(max_length=20, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=ReferralStatus.choices)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    objects = AuditedManager()

    class Meta:
        indexes = [models.Index(fields=["referral", "at", "id"])]

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status or '∅'} → {self.to_status}"
