"""The chain head only moves forward, onto an entry that is there.

PostgreSQL only, like migration 0002: an UPDATE of `audit_accessloghead` is allowed when the
new position is not behind the old one (the same position keeps its hash) and the entry at
the new position carries the new hash; DELETE is refused. So a role that cannot disable
triggers (the service role, `manage.py db_roles`) cannot move the head back over removed
entries or point it at a hash that no entry has.
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id AND NEW.seq >= OLD.seq
       AND (NEW.seq > OLD.seq OR NEW.entry_hash = OLD.entry_hash)
       AND (NEW.seq = 0 OR EXISTS (SELECT 1 FROM audit_accesslogentry e
                                   WHERE e.seq = NEW.seq AND e.entry_hash = NEW.entry_hash))
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_accessloghead only moves forward onto a sealed entry: % refused', TG_OP
        USING ERRCODE = '42501';
END $$;

CREATE TRIGGER audit_head_forward_only BEFORE UPDATE OR DELETE ON audit_accessloghead
    FOR EACH ROW EXECUTE FUNCTION audit_head_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS audit_head_forward_only ON audit_accessloghead;
DROP FUNCTION IF EXISTS audit_head_guard();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only")]

    operations = [migrations.RunPython(forward, backward)]
