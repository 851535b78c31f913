"""The access log, its checkpoints and the provision records are append-only at the database level.

PostgreSQL only (SQLite is the embedded development database): a trigger refuses
every UPDATE and DELETE, except
- sealing: an unsealed access-log entry gets its position and hashes, nothing else changes;
- retention: deleting access-log entries at or below a checkpoint, and provision
  records, older than the three-year retention period.
Bypassing it needs the table owner (ALTER TABLE … DISABLE TRIGGER) or a superuser
(session_replication_role); docs/operations.md says to run the service as neither.
The hash chain catches what such a bypass changes (manage.py audit_verify).
"""

from django.db import migrations

RETENTION = "interval '1095 days'"

FORWARD = f"""
CREATE OR REPLACE FUNCTION audit_entry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
       AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'entry_hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'entry_hash')
    THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' AND OLD.seq IS NOT NULL AND OLD.at < now() - {RETENTION}
       AND OLD.seq <= (SELECT coalesce(max(through_seq), 0) FROM audit_accesslogcheckpoint)
    THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_accesslogentry is append-only: % refused', TG_OP USING ERRCODE = '42501';
END $$;

CREATE OR REPLACE FUNCTION audit_append_only_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = '42501';
END $$;

CREATE OR REPLACE FUNCTION audit_provision_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND OLD.provided_at < now() - {RETENTION} THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_provisionrecord is append-only: % refused', TG_OP USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_accesslogentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_guard();
CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_accesslogcheckpoint
    FOR EACH ROW EXECUTE FUNCTION audit_append_only_guard();
CREATE TRIGGER audit_provision_append_only BEFORE UPDATE OR DELETE ON audit_provisionrecord
    FOR EACH ROW EXECUTE FUNCTION audit_provision_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_entry_append_only ON audit_accesslogentry;
DROP TRIGGER IF EXISTS audit_checkpoint_append_only ON audit_accesslogcheckpoint;
DROP TRIGGER IF EXISTS audit_provision_append_only ON audit_provisionrecord;
DROP FUNCTION IF EXISTS audit_entry_guard();
DROP FUNCTION IF EXISTS audit_append_only_guard();
DROP FUNCTION IF EXISTS audit_provision_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


def create_head(apps, schema_editor):
    apps.get_model("audit", "AccessLogHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
