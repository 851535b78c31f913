"""Tasks: ids, kinds, deadlines and who has them. Free text shows only to readers who see the resident."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.base import AccessLoggedModelSerializer, StrictSerializer, datetime_writer, row_ref
from api.serializers.cases import UserRefSerializer
from api.serializers.directory import OrganizationRefSerializer
from audit.access_log import access_log_read_rows
from cases.models import Organization, Task, TaskEscalation, User
from cases.models.choices import Urgency
from cases.models.escalations import EscalationTarget, TaskKind
from cases.models.rules import lookups_hold
from cases.selectors import task_escalation_plan

# The kinds a caseworker may ask for by hand (the others are opened by the system).
REQUESTABLE_KINDS = [(k.value, k.label) for k in (TaskKind.SAFETY_CHECK, TaskKind.FOLLOW_UP_VISIT)]
# Where a step of a task's escalation plan stands (cases.selectors.task_escalation_plan).
PLAN_STATES = [("fired", "fired"), ("pending", "pending"), ("not_needed", "not_needed")]


def _outcome_visible(resident_id: int | None, readable_resident_ids: set[int]) -> bool:
    """A task's outcome is free text about its resident: shown only to a reader who may see the resident
    (checked on every read), or when the task is about no resident."""
    return resident_id is None or resident_id in readable_resident_ids


class _Outcome(serializers.CharField):
    def get_attribute(self, instance):
        readable = _outcome_visible(instance.resident_id, self.parent.context.get("readable_resident_ids", set()))
        return super().get_attribute(instance) if readable else None


class TaskEscalationSerializer(serializers.ModelSerializer):
    target_organization = OrganizationRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = TaskEscalation
        fields = ["level", "target", "target_organization", "recipients", "fired_at"]
        read_only_fields = fields


class TaskEscalationPlanStepSerializer(serializers.Serializer):
    level = serializers.IntegerField(help_text="1, 2, 3 … in firing order.")
    target = serializers.ChoiceField(choices=EscalationTarget.choices)
    target_organization = OrganizationRefSerializer(
        allow_null=True, help_text="Fired: the organisation it reached. Pending: the policy's fixed organisation, "
                                   "if any (else it is found from the target when the step fires).")
    planned_at = serializers.DateTimeField(
        help_text="Due time + the step's offset; a step after one that reached nobody fires at once, earlier.")
    state = serializers.ChoiceField(
        choices=PLAN_STATES,
        help_text="pending: fires at planned_at if the task is still open then; not_needed: the task was "
                  "acknowledged or closed first.")
    fired_at = serializers.DateTimeField(allow_null=True)
    recipients = serializers.IntegerField(allow_null=True, help_text="Users notified when it fired.")


class TaskSerializer(AccessLoggedModelSerializer):
    assignee_organization = OrganizationRefSerializer(read_only=True)
    assignee_user = UserRefSerializer(read_only=True, allow_null=True)
    acknowledged_by = UserRefSerializer(read_only=True, allow_null=True)
    closed_by = UserRefSerializer(read_only=True, allow_null=True)
    resident = serializers.IntegerField(source="resident_id", read_only=True, allow_null=True)
    case = serializers.IntegerField(source="case_id", read_only=True, allow_null=True)
    visit = serializers.IntegerField(source="visit_id", read_only=True, allow_null=True)
    referral = serializers.IntegerField(source="referral_id", read_only=True, allow_null=True)
    consent = serializers.IntegerField(source="consent_id", read_only=True, allow_null=True)
    legal_basis_grant = serializers.IntegerField(source="legal_basis_grant_id", read_only=True, allow_null=True)
    outcome = _Outcome(read_only=True, allow_null=True,
                       help_text="Null unless you may see the resident the task is about.")
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "kind", "status", "urgency", "instruction_code", "assignee_organization", "assignee_user",
            "due_at", "overdue", "resident", "case", "visit", "referral", "consent", "legal_basis_grant",
            "escalation_level", "next_escalation_at", "created_at", "acknowledged_at", "acknowledged_by",
            "closed_at", "closed_by", "outcome",
        ]
        read_only_fields = fields

    def get_overdue(self, task) -> bool:
        return task.is_overdue(now=timezone.now())


def tasks_represent(rows: list[dict], *, readable_resident_ids: set[int], now) -> list[dict]:
    """A page of tasks as `TaskSerializer` writes it, key for key, from rows of `TASK_VALUES`: no serializer is
    built per row and no user or organisation row is loaded (a test holds the two to the same bytes). The
    outcome follows `_outcome_visible`, `overdue` the model's rule at `now`."""
    access_log_read_rows(Task, rows)
    write_datetime = datetime_writer()
    overdue = Task.overdue_lookups(now)
    return [
        {
            "id": row["id"],
            "kind": row["kind"],
            "status": row["status"],
            "urgency": row["urgency"],
            "instruction_code": row["instruction_code"],
            "assignee_organization": row_ref(row, "assignee_organization", "kind", "name"),
            "assignee_user": row_ref(row, "assignee_user", "display_name"),
            "due_at": write_datetime(row["due_at"]),
            "overdue": lookups_hold(row, overdue),
            "resident": row["resident_id"],
            "case": row["case_id"],
            "visit": row["visit_id"],
            "referral": row["referral_id"],
            "consent": row["consent_id"],
            "legal_basis_grant": row["legal_basis_grant_id"],
            "escalation_level": row["escalation_level"],
            "next_escalation_at": write_datetime(row["next_escalation_at"]),
            "created_at": write_datetime(row["created_at"]),
            "acknowledged_at": write_datetime(row["acknowledged_at"]),
            "acknowledged_by": row_ref(row, "acknowledged_by", "display_name"),
            "closed_at": write_datetime(row["closed_at"]),
            "closed_by": row_ref(row, "closed_by", "display_name"),
            "outcome": row["outcome"] if _outcome_visible(row["resident_id"], readable_resident_ids) else None,
        }
        for row in rows
    ]


class TaskDetailSerializer(TaskSerializer):
    escalations = serializers.SerializerMethodField(help_text="The steps that fired.")
    escalation_plan = serializers.SerializerMethodField(
        help_text="Every step of the task's escalation policy, planned and fired, in firing order.")

    class Meta(TaskSerializer.Meta):
        fields = [*TaskSerializer.Meta.fields, "escalations", "escalation_plan"]
        read_only_fields = fields

    @extend_schema_field(TaskEscalationPlanStepSerializer(many=True))
    def get_escalation_plan(self, task) -> list[dict]:
        return TaskEscalationPlanStepSerializer(task_escalation_plan(task=task), many=True).data

    @extend_schema_field(TaskEscalationSerializer(many=True))
    def get_escalations(self, task) -> list[dict]:
        rows = task.escalations.select_related("target_organization").order_by("level")
        return TaskEscalationSerializer(rows, many=True).data


class TaskCreateSerializer(StrictSerializer):
    case = serializers.IntegerField(min_value=1, max_value=2**62, help_text="A case you can see.")
    kind = serializers.ChoiceField(choices=REQUESTABLE_KINDS)
    assignee_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), help_text="An organisation on the case team."
    )
    assignee_user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True
    )
    due_at = serializers.DateTimeField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.ROUTINE)


class TaskCompleteSerializer(StrictSerializer):
    outcome = serializers.CharField(max_length=2000, help_text="What was done.")


class TaskCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why it is cancelled.")
