"""The service's database role owns nothing: the tester's rewrite of the access log fails at each step,
and the owner's (who can do it) is found by audit_verify through the external anchors.

PostgreSQL only. Inside the test's transaction (rolled back at the end, so nothing outlives
the test) two roles are created as in production: an owner, who owns every table (as the role
that migrates does), and a service role, given its rights by `manage.py db_roles` run as the
owner. `SET ROLE` then acts as one or the other: privilege checks, superuser checks and
ownership checks all follow the current role.
"""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from audit.access_log import access_log_reads
from audit.chain import access_log_anchor, access_log_seal, access_log_verify
from audit.models import AccessLogEntry, AccessLogHead
from tests.audit.rewrite import delete_entries_sql, forged_chain, update_hashes, update_head_sql

pytestmark = pytest.mark.services

KEY = "anchor-key-for-tests-0123456789-abcdefghijklmnop"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _act_as(role: str | None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {_q(role)}" if role else "RESET ROLE")


@pytest.fixture
def roles(db):
    """(owner, service): the owner owns every table in the schema; db_roles (as the owner) granted the service."""
    base = connection.settings_dict["NAME"][:40]
    owner, service = f"{base}_owner", f"{base}_service"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {_q(owner)} NOLOGIN")
        cursor.execute(f"CREATE ROLE {_q(service)} NOLOGIN")
        cursor.execute("SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                       "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v')")
        for name, kind in cursor.fetchall():  # a table's sequences follow it
            what = "VIEW" if kind == "v" else "TABLE"
            cursor.execute(f"ALTER {what} {_q(name)} OWNER TO {_q(owner)}")
    _act_as(owner)
    call_command("db_roles", service_role=service, stdout=open("/dev/null", "w"))  # noqa: SIM115
    try:
        yield owner, service
    finally:
        _act_as(None)


@pytest.fixture
def anchored(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")
    settings.AUDIT_ANCHOR_KEY = KEY


def _privilege(sql: str, *params) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def test_the_service_role_gets_only_what_it_uses(roles):
    _, service = roles
    table, column = "has_table_privilege(%s, %s, %s)", "has_column_privilege(%s, %s, %s, %s)"
    assert not _privilege(f"SELECT {table}", service, "audit_accesslogentry", "TRUNCATE")
    assert not _privilege(f"SELECT {table}", service, "audit_accesslogentry", "TRIGGER")
    assert not _privilege(f"SELECT {column}", service, "audit_accesslogentry", "user_id", "UPDATE")
    assert _privilege(f"SELECT {column}", service, "audit_accesslogentry", "entry_hash", "UPDATE")
    assert not _privilege(f"SELECT {table}", service, "audit_accesslogcheckpoint", "UPDATE")
    assert not _privilege(f"SELECT {table}", service, "audit_accesslogcheckpoint", "DELETE")
    assert not _privilege(f"SELECT {table}", service, "audit_provisionrecord", "UPDATE")
    assert not _privilege(f"SELECT {table}", service, "django_migrations", "INSERT")
    assert _privilege(f"SELECT {table}", service, "cases_resident", "UPDATE")
    assert not _privilege(f"SELECT {table}", service, "cases_resident", "TRUNCATE")
    assert _privilege("SELECT count(*) FROM pg_class WHERE pg_get_userbyid(relowner) = %s", service) == 0


def test_db_roles_refuses_a_service_role_that_could_bypass_the_triggers(roles):
    owner, _ = roles
    with pytest.raises(CommandError, match="must not be a superuser"):
        call_command("db_roles", service_role="postgres")
    with pytest.raises(CommandError, match="run this as the tables' owner"):
        call_command("db_roles", service_role=owner)


def test_the_service_role_serves_requests_seals_and_anchors(roles, world, client_for, anchored):
    client = client_for("care_worker")
    _, service = roles
    _act_as(service)
    assert client.get("/api/v1/residents").status_code == 200
    created = client.post("/api/v1/me/tokens", {"name": "phone"}, format="json", HTTP_IDEMPOTENCY_KEY="role-1")
    assert created.status_code == 201, created.content
    assert access_log_seal() > 0
    assert access_log_anchor().seq == AccessLogHead.objects.get(pk=1).seq
    assert access_log_verify().ok




def test_the_rewrite_is_refused_at_each_step_as_the_service_role_and_found_when_the_owner_does_it(
        roles, anchored, django_user_model):
    owner, service = roles
    alice, mallory = (django_user_model.objects.create(username=name) for name in ("alice-r", "mallory-r"))
    _act_as(service)
    for user in (alice, mallory, alice, mallory, alice):
        access_log_reads(kind="resident", resident_ids=[7001], categories=["basic"], basis="district", user=user)
    access_log_seal()
    access_log_anchor()
    before = list(AccessLogEntry.objects.order_by("seq").values_list("id", "seq", "entry_hash"))
    rows, head = forged_chain(without_user_id=mallory.id)

    def attempt(step):
        with transaction.atomic(), connection.cursor() as cursor:
            step(cursor)

    steps = [
        ("disable the trigger", lambda c: c.execute(
            "ALTER TABLE audit_accesslogentry DISABLE TRIGGER audit_entry_append_only"), "must be owner"),
        ("switch triggers off for the session", lambda c: c.execute("SET session_replication_role = replica"),
         "permission denied to set parameter"),
        ("delete one user's entries", lambda c: c.execute(*delete_entries_sql(mallory.id)),
         "append-only: DELETE refused"),
        ("update the hashes", lambda c: update_hashes(c, rows), "append-only: UPDATE refused"),
        ("update the head", lambda c: c.execute(*update_head_sql(head)), "only moves forward"),
        ("re-enable the trigger", lambda c: c.execute(
            "ALTER TABLE audit_accesslogentry ENABLE TRIGGER audit_entry_append_only"), "must be owner"),
        ("truncate the log", lambda c: c.execute("TRUNCATE audit_accesslogentry"), "permission denied"),
        ("drop the trigger", lambda c: c.execute("DROP TRIGGER audit_entry_append_only ON audit_accesslogentry"),
         "must be owner"),
    ]
    for name, step, refusal in steps:
        with pytest.raises(DatabaseError, match=refusal):
            attempt(step)
        assert list(AccessLogEntry.objects.order_by("seq").values_list("id", "seq", "entry_hash")) == before, name
    assert access_log_verify().ok

    _act_as(owner)  # the owner can: disable both triggers, rewrite, move the head, re-enable
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_accesslogentry DISABLE TRIGGER audit_entry_append_only")
        cursor.execute("ALTER TABLE audit_accessloghead DISABLE TRIGGER audit_head_forward_only")
        cursor.execute(*delete_entries_sql(mallory.id))
        update_hashes(cursor, rows)
        cursor.execute(*update_head_sql(head))
        cursor.execute("ALTER TABLE audit_accesslogentry ENABLE TRIGGER audit_entry_append_only")
        cursor.execute("ALTER TABLE audit_accessloghead ENABLE TRIGGER audit_head_forward_only")
    _act_as(service)  # monitoring runs audit_verify with the service's credentials
    result = access_log_verify()
    assert result.checked == 3 and not AccessLogEntry.objects.filter(user_id=mallory.id).exists()
    assert len(result.problems) == 2, result.problems
    assert "position 5 is missing from the log" in result.problems[0]
    assert "chain head is at position 3, behind the newest anchor at 5" in result.problems[1]
