"""Tasks: something someone must do by a time, escalated when nobody acknowledges it.

A task is assigned to an organisation's queue and, optionally, to one of its
members. It points at its subject by id (case, visit, referral, consent,
legal-basis grant) and carries no personal data itself, so a notification about
it can say "task 17" and a link. `dedupe_key` is unique: whatever creates a
task (a visit upload, a sweep, a retried worker) creates it once per reason.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models.cases import Case
from cases.models.choices import Urgency
from cases.models.consent import Consent, LegalBasisGrant
from cases.models.directory import Organization
from cases.models.disaster import DisasterEvent
from cases.models.escalations import EscalationPolicy, EscalationTarget, TaskKind
from cases.models.referrals import Referral
from cases.models.residents import Resident
from cases.models.rules import OverdueQuerySet, lookups_hold
from cases.models.visits import Visit


class TaskStatus(models.TextChoices):
    OPEN = "open", "未対応"
    ACKNOWLEDGED = "acknowledged", "対応中"
    COMPLETED = "completed", "完了"
    CANCELLED = "cancelled", "取消"


class Task(models.Model):
    kind = models.CharField(max_length=20, choices=TaskKind.choices)
    status = models.CharField(max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    assignee_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    assignee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks", db_index=False
    )
    instruction_code = models.CharField(
        max_length=32, blank=True,
        help_text="A problem code that changes how to do it, e.g. do_not_contact: coordinate with the ward section.",
    )
    due_at = models.DateTimeField()

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    case = models.ForeignKey(Case, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    visit = models.ForeignKey(Visit, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks")
    consent = models.ForeignKey(Consent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    legal_basis_grant = models.ForeignKey(
        LegalBasisGrant, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disaster_event = models.ForeignKey(
        DisasterEvent, on_delete=models.PROTECT, null=True, blank=True, related_name="tasks"
    )

    escalation_policy = models.ForeignKey(
        EscalationPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    escalation_level = models.PositiveSmallIntegerField(default=0, help_text="Steps fired so far.")
    next_escalation_at = models.DateTimeField(
        null=True, blank=True, help_text="When the next step fires; empty when none is left or the task is handled."
    )
    dedupe_key = models.CharField(max_length=120, unique=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    outcome = models.TextField(max_length=2000, blank=True, help_text="What was done, or why it was cancelled.")

    objects = OverdueQuerySet.as_manager()

    class Meta:
        indexes = [
            # The escalation sweep: open tasks whose next step is due.
            models.Index(fields=["next_escalation_at"], name="task_escalation_due",
                         condition=Q(status="open", next_escalation_at__isnull=False)),
            models.Index(fields=["assignee_user", "status", "due_at"]),
            models.Index(fields=["assignee_organization", "status", "due_at"]),
            models.Index(fields=["disaster_event", "status"], name="task_disaster_event",
                         condition=Q(disaster_event__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"Task {self.pk}"

    @staticmethod
    def overdue_lookups(now) -> dict:
        """Overdue: still open (nobody took it on) after its due time."""
        return {"status": TaskStatus.OPEN, "due_at__lt": now}

    def is_overdue(self, *, now) -> bool:
        return lookups_hold(self, Task.overdue_lookups(now))

    def is_urgent(self) -> bool:
        """Its notifications go out on the urgent queue: any urgency above routine, and every safety check."""
        return self.urgency != Urgency.ROUTINE or self.kind == TaskKind.SAFETY_CHECK


class TaskEscalation(models.Model):
    """One escalation step that fired for a task. (task, level) is unique: a step fires once."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="escalations", db_index=False)
    level = models.PositiveSmallIntegerField()
    target = models.CharField(max_length=24, choices=EscalationTarget.choices)
    target_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    recipients = models.PositiveIntegerField(default=0, help_text="Users notified.")
    fired_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["task", "level"], name="task_escalation_once")]
        indexes = [models.Index(fields=["target_organization", "task"])]

    def __str__(self) -> str:
        return f"Task {self.task_id} level {self.level}"
