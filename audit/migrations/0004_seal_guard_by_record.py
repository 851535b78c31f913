"""The access log's guard compares an entry being sealed with its old row as a record, not as JSON.

PostgreSQL only, like migration 0002, and the same rule: an unsealed entry may get its
position and hashes and nothing else. Migration 0002 checked it by turning both rows into
JSON (`to_jsonb(NEW) - 'seq' - … = to_jsonb(OLD) - …`), which was 40-50 µs of the sealer's
~100 µs of PostgreSQL per entry, about twenty entries for every API request. Here the old row,
given the new seal, must be the new row byte for byte (`*=`, the record image comparison):
every column, present and future, still takes part; a NULL equals only a NULL.
"""

from django.db import migrations

RETENTION = "interval '1095 days'"  # as in migration 0002

DELETE_BRANCH = f"""
    IF TG_OP = 'DELETE' AND OLD.seq IS NOT NULL AND OLD.at < now() - {RETENTION}
       AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_accesslogcheckpoint)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_accesslogentry is append-only: % refused', TG_OP USING ERRCODE = '42501';
"""

FORWARD = f"""
CREATE OR REPLACE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sealed audit_accesslogentry;
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL THEN
        sealed := OLD;
        sealed.seq := NEW.seq;
        sealed.prev_hash := NEW.prev_hash;
        sealed.entry_hash := NEW.entry_hash;
        IF NEW *= sealed THEN
            RETURN NEW;
        END IF;
    END IF;
{DELETE_BRANCH}
END $$;
"""

BACKWARD = f"""
CREATE OR REPLACE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'entry_hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'entry_hash')
    THEN
        RETURN NEW;
    END IF;
{DELETE_BRANCH}
END $$;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_head_moves_forward")]

    operations = [migrations.RunPython(forward, backward)]
