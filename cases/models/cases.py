"""The case: one concern about one resident, worked by a team of organisations."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models.choices import CaseStatus, RiskLevel
from cases.models.directory import Organization
from cases.models.residents import Resident


class Case(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="cases")
    concern = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    risk_level = models.CharField(max_length=16, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    lead_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="led_cases")
    lead_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="led_cases"
    )
    team = models.ManyToManyField(Organization, through="CaseTeamMember", related_name="team_cases")
    visit_cadence_days = models.PositiveSmallIntegerField(null=True, blank=True)
    next_visit_due = models.DateField(null=True, blank=True)
    due_order = models.GeneratedField(
        expression=Coalesce("next_visit_due", Value(datetime.date(9999, 12, 31))),
        output_field=models.DateField(),
        db_persist=True,
        help_text="next_visit_due with 'none due' last: the caseload's index-backed sort key.",
    )
    opened_at = models.DateTimeField(default=timezone.now, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["due_order", "id"]),
            models.Index(fields=["status", "risk_level"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(visit_cadence_days__isnull=True)
                | Q(visit_cadence_days__gte=1, visit_cadence_days__lte=365),
                name="case_cadence_range",
            )
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}"


class CaseTeamMember(models.Model):
    """An organisation on a case's team (the lead organisation is always one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team_members")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="case_memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "organization"], name="case_team_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id} on case {self.case_id}"
