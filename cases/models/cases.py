"""The case: one concern about one resident, worked by a team of organisations."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models.audited import AuditedQuerySet
from cases.models.choices import CaseStatus, RiskLevel
from cases.models.directory import Organization
from cases.models.residents import Resident
from cases.models.rules import lookups_hold


class CaseQuerySet(AuditedQuerySet):
    def visit_overdue(self, *, today: datetime.date):
        return self.filter(**Case.visit_overdue_lookups(today))

    def visit_not_overdue(self, *, today: datetime.date):
        return self.exclude(**Case.visit_overdue_lookups(today))


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

    objects = CaseQuerySet.as_manager()

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

    @staticmethod
    def visit_overdue_lookups(today: datetime.date | None) -> dict:
        """A case's visit is overdue once the day it was due has passed (no visit due: never)."""
        return {"next_visit_due__lt": today}

    @staticmethod
    def visit_is_overdue(*, next_visit_due: datetime.date | None, today: datetime.date | None) -> bool:
        """The same rule for one row (an instance's or a caseload row's `next_visit_due`)."""
        return lookups_hold({"next_visit_due": next_visit_due}, Case.visit_overdue_lookups(today))


class CaseTeamMember(models.Model):
    """An organisation on a case's team (the lead organisation is always one)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="team_members", db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="case_memberships")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "organization"], name="case_team_unique")]

    def __str__(self) -> str:
        return f"{self.organization_id} on case {self.case_id}"
