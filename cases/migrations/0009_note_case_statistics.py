"""PostgreSQL samples more rows of `cases_note.case_id` when it analyses the table.

A case's notes are read through the policy as one case's page (`GET /notes?case=`). With the default sample,
PostgreSQL put the notes per case at a third of their true number of distinct cases (36,733 against 93,113 on
the seeded city) and its per-case guesses were off both ways (138 notes for a case with 60), so for a busy
reader it hashed all of its 6,408 note grants (4.1 ms) instead of probing the case's 60 notes (0.6 ms).
"""

from django.db import migrations

TARGET = 1000


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE cases_note ALTER COLUMN case_id SET STATISTICS {TARGET}")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE cases_note ALTER COLUMN case_id SET STATISTICS -1")


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_task_kinds_together")]

    operations = [migrations.RunPython(forward, backward)]
