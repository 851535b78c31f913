"""Default escalation policies (editable in the admin afterwards).

- An unanswered referral: a reminder to the receiver at the deadline, then the
  receiver's supervisors, then the ward section (sooner the more urgent).
- A visit overdue beyond its cadence plus 3 days' grace: a follow-up task with a
  reminder, then the district council chair (a commissioner council supervisor)
  for commissioner-led cases, the care centre for the others.
- No answer with warning signs (a missed visit): an urgent safety check for the care
  centre at once, a reminder after 30 minutes, the ward section after 1 hour.

Step times are measured from the task's due time. A follow-up task is due when
it opens, so its reminder comes a day later.
"""

import datetime

from django.db import migrations

H = datetime.timedelta(hours=1)
D = datetime.timedelta(days=1)

POLICIES = [
    # name, task kind, organisation kind, urgency, start_after, [(after, target)]
    ("Unanswered referral (emergency)", "answer_referral", "", "emergency", datetime.timedelta(0),
     [(datetime.timedelta(0), "assignee"), (H / 2, "assignee_supervisors"), (H, "ward_section")]),
    ("Unanswered referral (urgent)", "answer_referral", "", "urgent", datetime.timedelta(0),
     [(datetime.timedelta(0), "assignee"), (4 * H, "assignee_supervisors"), (D, "ward_section")]),
    ("Unanswered referral (routine)", "answer_referral", "", "routine", datetime.timedelta(0),
     [(datetime.timedelta(0), "assignee"), (2 * D, "assignee_supervisors"), (5 * D, "ward_section")]),
    ("Overdue visit (commissioner-led case)", "follow_up_visit", "commissioner_council", "", 3 * D,
     [(D, "assignee"), (3 * D, "council_chair")]),
    ("Overdue visit", "follow_up_visit", "", "", 3 * D,
     [(D, "assignee"), (3 * D, "care_centre")]),
    ("Safety check not acknowledged", "safety_check", "", "", datetime.timedelta(0),
     [(H / 2, "assignee"), (H, "ward_section")]),
]


def create(apps, schema_editor):
    Policy = apps.get_model("cases", "EscalationPolicy")
    Step = apps.get_model("cases", "EscalationStep")
    for name, kind, org_kind, urgency, start_after, steps in POLICIES:
        policy, created = Policy.objects.get_or_create(
            task_kind=kind, organization_kind=org_kind, urgency=urgency,
            defaults={"name": name, "start_after": start_after},
        )
        if created:
            Step.objects.bulk_create(
                [Step(policy=policy, position=i, after=after, target=target) for i, (after, target) in
                 enumerate(steps, start=1)]
            )


def remove(apps, schema_editor):
    Policy = apps.get_model("cases", "EscalationPolicy")
    for _, kind, org_kind, urgency, _, _ in POLICIES:
        Policy.objects.filter(task_kind=kind, organization_kind=org_kind, urgency=urgency).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_referrals_tasks_escalations")]

    operations = [migrations.RunPython(create, remove)]
