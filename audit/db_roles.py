"""The service's PostgreSQL role: it owns nothing and holds only the rights its code uses.

Migrations run as the owner of every table; the web, worker and beat processes connect as a
separate service role. Owning nothing, the service role cannot disable or drop the
append-only triggers (migrations 0002, 0003), alter or truncate a table, or reassign
anything; not a superuser, it cannot switch triggers off with `session_replication_role`.
So whoever holds only the service's credentials cannot rewrite the access log at all, and
the owner, who can, is caught by the chain's external anchors (`audit/anchors.py`).

`db_roles_grant` is run by the owner after every migration (`manage.py db_roles`):
- every table: SELECT, INSERT, UPDATE, DELETE, except those below; every sequence: USAGE, SELECT;
- the access log and its companions: only what writing, sealing and retention use
  (`LOG_TABLES`); the triggers confine UPDATE and DELETE further;
- `django_migrations`: SELECT (the service reads which migrations ran, never records one);
- default privileges, so a table a later migration creates is usable before the next run
  (the run after that migration then narrows it if it is listed here).
"""

from __future__ import annotations

from django.db import connection

from audit.models import AccessLogCheckpoint, AccessLogEntry, AccessLogHead, ProvisionRecord

# What the service does to the audit tables: write entries, seal them (the three chain columns and
# the head), prune a sealed prefix under a checkpoint and purge old provision records (retention).
LOG_TABLES = {
    AccessLogEntry._meta.db_table: "SELECT, INSERT, UPDATE (seq, prev_hash, entry_hash), DELETE",
    AccessLogHead._meta.db_table: "SELECT, INSERT, UPDATE (seq, entry_hash, sealed_at)",
    AccessLogCheckpoint._meta.db_table: "SELECT, INSERT",
    ProvisionRecord._meta.db_table: "SELECT, INSERT, DELETE",
    "django_migrations": "SELECT",
}
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT"


class RoleSplitError(Exception):
    """The roles are not split as this module requires (the message says how)."""


def _one(sql: str, params: list) -> tuple | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def _check_roles(*, owner: str, service_role: str) -> None:
    row = _one("SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = %s",
               [service_role])
    if row is None:
        raise RoleSplitError(f"role {service_role!r} does not exist (create it as a login role first)")
    if any(row):
        raise RoleSplitError(f"role {service_role!r} must not be a superuser nor create roles or databases, "
                             "nor bypass row security")
    if service_role == owner:
        raise RoleSplitError(f"run this as the tables' owner, not as the service role {service_role!r}")
    owned = _one("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE pg_get_userbyid(c.relowner) = %s AND n.nspname = current_schema()", [service_role])
    if owned and owned[0]:
        raise RoleSplitError(f"role {service_role!r} owns {owned[0]} tables or sequences: reassign them to {owner!r}")
    foreign = _one("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner <> %s",
                   [owner])
    if foreign and foreign[0]:
        raise RoleSplitError(f"{foreign[0]} tables are not owned by {owner!r}: run this as the role that migrates")
    member = _one("SELECT pg_has_role(%s, %s, 'USAGE')", [service_role, owner])
    if member and member[0]:
        raise RoleSplitError(f"role {service_role!r} is a member of {owner!r} and so has its rights")


def db_roles_statements(*, service_role: str) -> list[str]:
    """The GRANT and REVOKE statements, in order, for the service role on the current schema."""
    role = connection.ops.quote_name(service_role)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_schema()")
        schema = connection.ops.quote_name(cursor.fetchone()[0])
        tables = set(connection.introspection.table_names(cursor))
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {role}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {role}",
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {schema} TO {role}",
    ]
    for table, rights in LOG_TABLES.items():
        if table in tables:
            quoted = connection.ops.quote_name(table)
            statements += [f"REVOKE ALL ON {quoted} FROM {role}", f"GRANT {rights} ON {quoted} TO {role}"]
    statements += [
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {TABLE_RIGHTS} ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {role}",
    ]
    return statements


def db_roles_grant(*, service_role: str) -> list[str]:
    """Give `service_role` exactly the rights above, as the owner connected now; returns what ran."""
    if connection.vendor != "postgresql":
        raise RoleSplitError("roles exist on PostgreSQL only (the embedded SQLite database has none)")
    owner = _one("SELECT current_user", [])[0]
    _check_roles(owner=owner, service_role=service_role)
    statements = db_roles_statements(service_role=service_role)
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    return statements
