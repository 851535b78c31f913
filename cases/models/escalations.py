"""Escalation policies: who hears about a task nobody acted on, and when. Stored here, edited in the admin.

A policy applies to tasks of one kind, for an assignee organisation kind and an
urgency (blank = any; the most specific active policy wins). Its steps fire in
order at `after` past the task's due time while the task is still open (not
acknowledged); each fires once, recorded as a `TaskEscalation`.
"""

import datetime

from django.db import models

from cases.models.choices import OrganizationKind, Urgency
from cases.models.directory import Organization


class TaskKind(models.TextChoices):
    SAFETY_CHECK = "safety_check", "安否確認"
    FOLLOW_UP_VISIT = "follow_up_visit", "再訪問"
    ANSWER_REFERRAL = "answer_referral", "つなぎへの回答"
    RENEW_CONSENT = "renew_consent", "同意の更新"
    REVIEW_GRANT = "review_grant", "緊急アクセスの事後確認"
    PARTNER_SIGNAL = "partner_signal", "見守り協定事業者からの通報"
    LINK_RESIDENTS = "link_residents", "同一人物の確認"
    DISASTER_CHECK = "disaster_check", "災害時の安否確認"
    REVERIFY_LISTING = "reverify_listing", "掲載情報の再確認"


class EscalationTarget(models.TextChoices):
    ASSIGNEE = "assignee", "担当者への再通知"
    ASSIGNEE_SUPERVISORS = "assignee_supervisors", "担当組織の管理者"
    WARD_SECTION = "ward_section", "区役所"
    COUNCIL_CHAIR = "council_chair", "地区民児協会長"
    CARE_CENTRE = "care_centre", "地域包括支援センター"


class EscalationPolicy(models.Model):
    name = models.CharField(max_length=100)
    task_kind = models.CharField(max_length=20, choices=TaskKind.choices)
    organization_kind = models.CharField(
        max_length=32, choices=OrganizationKind.choices, blank=True, help_text="The assignee's kind; blank: any."
    )
    urgency = models.CharField(max_length=10, choices=Urgency.choices, blank=True, help_text="Blank: any.")
    start_after = models.DurationField(
        default=datetime.timedelta(0),
        help_text="Follow-up visits: the grace after the visit due date before a task opens.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "escalation policies"
        constraints = [
            models.UniqueConstraint(
                fields=["task_kind", "organization_kind", "urgency"], name="escalation_policy_unique_scope"
            )
        ]

    def __str__(self) -> str:
        return self.name


class EscalationStep(models.Model):
    policy = models.ForeignKey(EscalationPolicy, on_delete=models.CASCADE, related_name="steps", db_index=False)
    position = models.PositiveSmallIntegerField(help_text="1, 2, 3 … in firing order.")
    after = models.DurationField(help_text="Fires this long after the task's due time (from due, not cumulative).")
    target = models.CharField(max_length=24, choices=EscalationTarget.choices)
    target_organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="Optional: always this organisation instead of the one derived from the target.",
    )

    class Meta:
        ordering = ["policy", "position"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "position"], name="escalation_step_unique_position"),
            models.CheckConstraint(condition=models.Q(position__gte=1), name="escalation_step_position_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.policy}: {self.position}. {self.get_target_display()} +{self.after}"
