"""Partner signals (見守り協定): a business that agreed to watch reports a warning sign at an address.

A partner business holds one or more agreements (period, the signals it may report, the area it
covers). A report names its agreement and the partner's own reference (unique per agreement: a
retried report is the same report), the address as the partner wrote it and the signals seen. The
partner learns only that it was received and routed; what it matched and where it went is kept
beside it (`PartnerReportRouting`, `PartnerReportCandidate`) for those who work the task.
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.directory import Organization
from cases.models.residents import Resident
from cases.models.tasks import Task


class PartnerSignal(models.TextChoices):
    NEWSPAPERS_PILING_UP = "newspapers_piling_up", "新聞がたまっている"
    MAIL_PILING_UP = "mail_piling_up", "郵便物がたまっている"
    SHUTTERS_CLOSED = "shutters_closed", "雨戸が何日も閉まったまま"
    LAUNDRY_LEFT_OUT = "laundry_left_out", "洗濯物が干したまま"
    NO_ANSWER_SEEMS_HOME = "no_answer_seems_home", "在宅の様子だが応答がない"
    STRANGE_SMELL = "strange_smell", "異臭がする"
    METER_UNCHANGED = "meter_unchanged", "メーターが動いていない"
    METER_RUNNING = "meter_running", "メーターが回り続けている"


class PartnerAgreement(models.Model):
    """One 見守り協定 between the ward and a partner business: what it may report, where, and when."""

    code = models.CharField(max_length=32, unique=True, help_text="The agreement's number, e.g. TAMA-2026-001.")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="partner_agreements")
    municipality = models.CharField(max_length=30, default="川崎市多摩区", help_text="The area it covers.")
    towns = models.JSONField(default=list, blank=True, help_text="Towns covered; empty: the whole municipality.")
    signals = models.JSONField(default=list, help_text="The signal codes it may report (PartnerSignal).")
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                                   name="partner_agreement_period_ordered"),
        ]

    def __str__(self) -> str:
        return self.code


class PartnerReportState(models.TextChoices):
    """All a partner ever sees of what happened to its report."""

    RECEIVED = "received", "受付済"
    ROUTED = "routed", "連絡済"


class PartnerReport(models.Model):
    agreement = models.ForeignKey(PartnerAgreement, on_delete=models.PROTECT, related_name="reports", db_index=False)
    reference = models.CharField(max_length=64, help_text="The partner's own reference: one report per agreement.")
    fingerprint = models.CharField(max_length=64, help_text="Digest of what was reported, to tell a retry from a "
                                                            "reuse of the reference.")
    observed_at = models.DateTimeField()
    address_text = models.CharField(max_length=300, help_text="The address as the partner wrote it.")
    signals = models.JSONField(default=list)
    remarks = models.TextField(max_length=2000, blank=True)
    emergency_services_called = models.BooleanField(default=False, help_text="Police or fire were called.")
    state = models.CharField(max_length=10, choices=PartnerReportState.choices, default=PartnerReportState.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    route_due_at = models.DateTimeField(help_text="When routing is due; the sweep finds reports still unrouted.")
    routed_at = models.DateTimeField(null=True, blank=True)
    address_key = models.CharField(max_length=120, blank=True, db_index=True, editable=False)
    room_key = models.CharField(max_length=20, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agreement", "reference"], name="partner_report_reference_once"),
        ]
        indexes = [
            models.Index(fields=["route_due_at"], name="partner_report_unrouted", condition=Q(state="received")),
            models.Index(fields=["agreement", "id"]),
        ]

    def __str__(self) -> str:
        return f"Partner report {self.pk}"


class RoutingOutcome(models.TextChoices):
    MATCHED = "matched", "一人に一致"
    SEVERAL = "several", "複数に一致"
    NONE = "none", "一致なし"


class PartnerReportRouting(models.Model):
    """Where a report went: the task it opened or joined. Never shown to the partner."""

    report = models.OneToOneField(PartnerReport, on_delete=models.CASCADE, related_name="routing")
    outcome = models.CharField(max_length=10, choices=RoutingOutcome.choices)
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="partner_routings")
    joined = models.BooleanField(default=False, help_text="Joined a task already open at the same address.")
    routed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Routing of report {self.report_id}"


class PartnerReportCandidate(models.Model):
    """A resident registered at the reported address; shown only to readers who see that resident."""

    report = models.ForeignKey(PartnerReport, on_delete=models.CASCADE, related_name="candidates", db_index=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")

    objects = AuditedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "resident"], name="partner_candidate_once")]

    def __str__(self) -> str:
        return f"Candidate {self.resident_id} of report {self.report_id}"
