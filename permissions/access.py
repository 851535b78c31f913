"""The read side of the policy: scope a queryset to what a user may see or change.

Visibility is decided at query time from the user's *active* memberships, so a
commissioner's term end or a removed membership takes effect on the very next
request, with no worker running.
"""

from __future__ import annotations

import functools
import time

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import BooleanField, Expression, F, JSONField, Q, QuerySet, Subquery
from django.utils import timezone

from backend.prepared import prepared_cursor
from cases.models import Case, CouncilArea, District, EvacuationListEntry, Note, Organization, Resident, User, Visit
from permissions.actors import actor_for, actor_remembered, actors_remembered
from permissions.memberships import active_group_queries
from permissions.models import (
    CaseGroupObjectPermission,
    EvacuationEntryGroupObjectPermission,
    NoteGroupObjectPermission,
    ResidentGroupObjectPermission,
    VisitGroupObjectPermission,
)
from permissions.policy import OWN_RIGHT_BASES

_TABLES = {
    Resident: ResidentGroupObjectPermission,
    Case: CaseGroupObjectPermission,
    Note: NoteGroupObjectPermission,
    Visit: VisitGroupObjectPermission,
    EvacuationListEntry: EvacuationEntryGroupObjectPermission,
}


# The window rule as SQL, for a grant row `g`: its window holds the moment given twice. Every hand-written read
# of the grant tables here writes it through this one constant.
_WINDOW_HOLDS = "g.valid_from <= %s AND g.valid_until > %s"


def _held_now(groups: str) -> str:
    """A grant row `g` held now through the groups (`groups`, the test of `g.group_id`: an `IN` list, or
    `= ANY(%s)` of an array where a statement is prepared), for the permission named by content type and
    codename, at the moment given twice; its parameters follow the groups' in that order."""
    return (f"g.group_id {groups} AND g.permission_id = (SELECT p.id FROM auth_permission p "
            f"WHERE p.content_type_id = %s AND p.codename = %s) AND {_WINDOW_HOLDS}")


class _Granted(Expression):
    """True for a row of `model` on which one of `groups` holds `codename` at `at`: EXISTS a grant row whose
    window holds the moment (`valid_from <= at < valid_until`). The scope of every read and the look-up of
    every record acted on, written as SQL once here and compiled with the outer query's own alias for the
    row's id: built with the ORM's Exists, OuterRef and a Subquery, its building and compiling cost more
    Python than the page's query cost PostgreSQL (0.8 of 1.9 ms for a caseload page).

    `hashed` writes the same test as `(id IN (SELECT ...)) IS TRUE`, a sub-select PostgreSQL keeps out of the
    join tree: it reads the groups' grants once into a hash and tests each row by a look-up in memory. For a
    list page walked in an order of its own (`scope`'s `walk`), where the EXISTS costs one descent of the grant
    index per row passed."""

    output_field = BooleanField()

    def __init__(self, ref, *, model, groups: list[int], codename: str, at, hashed: bool = False):
        super().__init__()
        self.ref, self.model, self.groups, self.codename, self.at = ref, model, list(groups), codename, at
        self.hashed = hashed

    def get_source_expressions(self):
        return [self.ref]

    def set_source_expressions(self, exprs):
        (self.ref,) = exprs

    def _held(self, compiler, connection) -> tuple[str, str, str, tuple]:
        """The row's id, the grant table, and the test of a grant row `g` held now, with their parameters."""
        ref_sql, ref_params = compiler.compile(self.ref)
        table = connection.ops.quote_name(_TABLES[self.model]._meta.db_table)
        at = connection.ops.adapt_datetimefield_value(self.at)
        held = _held_now(f"IN ({', '.join(['%s'] * len(self.groups))})")
        held_params = (*self.groups, ContentType.objects.get_for_model(self.model).id, self.codename, at, at)
        return ref_sql, table, held, (*ref_params, *held_params)

    def as_sql(self, compiler, connection):
        ref_sql, table, held, params = self._held(compiler, connection)
        if self.hashed:
            return f"({ref_sql} IN (SELECT g.content_object_id FROM {table} g WHERE {held})) IS TRUE", params
        return f"EXISTS (SELECT 1 FROM {table} g WHERE g.content_object_id = {ref_sql} AND {held})", params


def _granted(model, *, groups: list[int], codename: str, hashed: bool = False) -> _Granted:
    return _Granted(F("pk"), model=model, groups=groups, codename=codename, at=timezone.now(), hashed=hashed)


# The name under which a row read by `scope(..., bases=True)` carries its bases.
HELD_THROUGH = "held_through"


class _HeldThrough(_Granted):
    """The bases (a list) of the grants `_Granted` finds a row through: what the access log records as why the
    row was read (audit/access_log.py), read in the row's own query at the moment of its scope, where a look-up
    of the same grant rows afterwards (`grant_bases`) cost every page one more statement (0.5-0.6 ms)."""

    output_field = JSONField()

    def as_sql(self, compiler, connection):
        ref_sql, table, held, params = self._held(compiler, connection)
        return f"(SELECT jsonb_agg(g.basis) FROM {table} g WHERE g.content_object_id = {ref_sql} AND {held})", params

    def as_sqlite(self, compiler, connection):
        ref_sql, table, held, params = self._held(compiler, connection)
        return (f"(SELECT json_group_array(g.basis) FROM {table} g WHERE g.content_object_id = {ref_sql} "
                f"AND {held})", params)


# `_tested_by_hash`'s answers: (model, codename, groups) -> (when it was asked, the answer). Which way a page is
# found fastest changes only as a reader's caseload grows or shrinks by hundreds of rows, and either way finds
# the same rows, so an answer is kept for a while in the process rather than asked on every page.
_BY_HASH: dict[tuple, tuple[float, bool]] = {}
BY_HASH_SECONDS = 600
# The most rows a reader's grants are hashed for: 50,000 ids make a hash of about 2.4 MB, within the `hash_mem`
# PostgreSQL builds one in (8 MB at the defaults). Past it PostgreSQL would rescan the grants for every row.
BY_HASH_AT_MOST = 50_000


def _tested_by_hash(model, *, groups: list[int], codename: str) -> bool:
    """Whether a list page of `model` walked in its own order tests each row against a hash of the groups'
    grants: when they hold `codename` on at least one in a hundred of the model's rows now (the table's size as
    PostgreSQL last estimated it) and on no more than `BY_HASH_AT_MOST`, counted no further than that; the answer
    kept `BY_HASH_SECONDS`.

    A reader who sees one row in a hundred or more meets 50 of them within the first 5,000 rows of the order,
    each a look-up in memory (a care centre's 2,000 of the city's 115,000 cases: 1.1 ms, where a descent of the
    grant index per row took 4-5 ms). A reader who sees fewer is read from their grants, as the planner chooses
    for the EXISTS (a commissioner's 91 cases: 0.4 ms, where the walk would pass 50,000 rows)."""
    key = (model, codename, tuple(sorted(groups)))
    asked, answer = _BY_HASH.get(key, (None, False))
    if asked is not None and time.monotonic() - asked < BY_HASH_SECONDS:
        return answer
    if len(_BY_HASH) > 10_000:
        _BY_HASH.clear()
    table = connection.ops.quote_name(_TABLES[model]._meta.db_table)
    now = timezone.now()
    with prepared_cursor() as cursor:
        cursor.execute(
            "SELECT count(*) BETWEEN (SELECT greatest(ceil(reltuples / 100), 1) FROM pg_class "
            f"WHERE oid = %s::regclass) AND %s FROM (SELECT 1 FROM {table} g WHERE {_held_now('= ANY(%s)')} "
            "LIMIT %s) s",
            [model._meta.db_table, BY_HASH_AT_MOST, list(groups), ContentType.objects.get_for_model(model).id,
             codename, now, now, BY_HASH_AT_MOST + 1],
        )
        answer = cursor.fetchone()[0]
    _BY_HASH[key] = (time.monotonic(), answer)
    return answer


def _permission(model, codename: str) -> Subquery:
    """The permission's id as a sub-select (run once per query): joining auth_permission made the
    planner weigh one more table in every scoped list (2.4 ms of planning for a 0.8 ms commissioner page)."""
    return Subquery(Permission.objects.filter(
        content_type_id=ContentType.objects.get_for_model(model).id, codename=codename).order_by().values("id"))


def groups_remembered():
    """Within one request (opened by audit.middleware): each user's actor and groups, resolved once.

    The route's membership check asks first (api/access.py), every scoped read and guard reuses the
    answer, and the access log looks up the bases of what was read through exactly those groups.
    """
    return actors_remembered()


def acting_groups(*, user: User) -> list[int] | None:
    """The groups the user acts through right now, or None when they hold no active membership at all."""
    actor = actor_for(user=user)
    return actor.group_ids if actor.member else None


def scope(queryset: QuerySet, *, user: User, codename: str, group_ids: list[int] | None = None,
          walk: bool = False, bases: bool = False) -> QuerySet:
    """Only the rows of `queryset` on which the user holds `codename` through an active group.

    `walk` for a list page read in an order of its own (the caseload, soonest visit first): on PostgreSQL, a
    reader who holds many of the rows has them tested by hash (`_Granted`, `_tested_by_hash`).
    `bases` for rows the access log records as read: each also carries, as `HELD_THROUGH`, the bases of the
    grants it was found through (`_HeldThrough`)."""
    if not user.is_authenticated or not user.is_active:
        return queryset.none()
    groups = (acting_groups(user=user) or []) if group_ids is None else group_ids
    if not groups:
        return queryset.none()
    hashed = walk and connection.vendor == "postgresql" and _tested_by_hash(queryset.model, groups=groups,
                                                                            codename=codename)
    found = dict(model=queryset.model, groups=groups, codename=codename, at=timezone.now())
    scoped = queryset.filter(_Granted(F("pk"), hashed=hashed, **found))
    return scoped.annotate(**{HELD_THROUGH: _HeldThrough(F("pk"), **found)}) if bases else scoped


def grant_bases(*, user: User, model, object_ids: list[int], codename: str) -> dict[int, list[str]]:
    """For each object: the bases of the grants through which the user holds `codename` on it right now.

    The access log records these as why a reader could see a record (audit/access_log.py).
    """
    if not object_ids or user is None or not user.is_authenticated:
        return {}
    now = timezone.now()
    decided = actor_remembered(user=user)
    decided = decided.group_ids if decided is not None else None
    if decided is not None and connection.vendor == "postgresql":
        # The groups this request's reads were scoped with, as two array parameters: the ORM's
        # building of this query cost more than the database's answering it.
        table = _TABLES[model]._meta.db_table
        with prepared_cursor() as cursor:
            cursor.execute(
                f"SELECT g.content_object_id, g.basis FROM {connection.ops.quote_name(table)} g "
                f"WHERE g.content_object_id = ANY(%s) AND {_held_now('= ANY(%s)')}",
                [list(object_ids), list(decided), ContentType.objects.get_for_model(model).id, codename, now, now],
            )
            rows = cursor.fetchall()
    else:
        if decided is not None:
            in_groups = Q(group_id__in=decided)
        else:  # as subqueries: one query in all
            org_groups, district_groups = active_group_queries(user=user)
            in_groups = Q(group_id__in=org_groups) | Q(group_id__in=district_groups)
        rows = _TABLES[model].objects.filter(
            in_groups, content_object_id__in=object_ids, permission__codename=codename,
            valid_from__lte=now, valid_until__gt=now,
        ).values_list("content_object_id", "basis")
    bases: dict[int, set[str]] = {}
    for object_id, basis in rows:
        bases.setdefault(object_id, set()).add(basis)
    return {object_id: sorted(found) for object_id, found in bases.items()}


def unseen(queryset: QuerySet, *, user: User, codename: str) -> QuerySet:
    """The rows of `queryset` the user does NOT hold `codename` on right now (what a share would go beyond)."""
    groups = acting_groups(user=user) or []
    if not groups:
        return queryset
    return queryset.exclude(_granted(queryset.model, groups=groups, codename=codename))


def granted_to_groups(queryset: QuerySet, *, group_ids: list[int], codename: str) -> QuerySet:
    """The rows of `queryset` that these groups hold `codename` on right now."""
    return queryset.filter(_granted(queryset.model, groups=group_ids, codename=codename))


def own_right_groups(*, user: User, resident_id: int) -> set[int]:
    """The user's groups that hold the resident in their own right now (policy.OWN_RIGHT_BASES)."""
    groups = acting_groups(user=user) or []
    if not groups:
        return set()
    now = timezone.now()
    return set(ResidentGroupObjectPermission.objects.filter(
        content_object_id=resident_id, group_id__in=groups, permission_id=_permission(Resident, "change_resident"),
        basis__in=OWN_RIGHT_BASES, valid_from__lte=now, valid_until__gt=now,
    ).values_list("group_id", flat=True))


def organizations_holding(*, resident_id: int, at=None) -> set[int]:
    """The organisations that see anything of the resident at `at` (now): a grant on the resident's record,
    a case, a note or a visit of theirs, whatever its basis. A district's grants are its commissioner
    council's (the organisation commissioners act for). Who is told that consent about the resident changed
    (integrations/events.py): an organisation that never held the resident learns nothing of them.

    One statement (prepared on PostgreSQL), run twice by every consent change: as six ORM queries it cost
    a withdrawal about 8 ms of Python each time."""
    at = connection.ops.adapt_datetimefield_value(at or timezone.now())
    with prepared_cursor() if connection.vendor == "postgresql" else connection.cursor() as cursor:
        cursor.execute(_holding_sql(), [resident_id, at, at] * 4)
        return {organization_id for (organization_id,) in cursor.fetchall()}


@functools.cache
def _holding_sql() -> str:
    """The groups holding a grant on the resident's record, cases, notes or visits at a moment (the resident and
    the moment given four times), and the organisations they are: an organisation's own group, a district's
    council."""
    def table(model) -> str:
        return connection.ops.quote_name(model._meta.db_table)

    records = " UNION ".join(
        f"SELECT g.group_id FROM {table(grants)} g {join} WHERE {resident} = %s AND {_WINDOW_HOLDS}"
        for grants, join, resident in (
            (ResidentGroupObjectPermission, "", "g.content_object_id"),
            (CaseGroupObjectPermission, f"JOIN {table(Case)} c ON c.id = g.content_object_id", "c.resident_id"),
            (NoteGroupObjectPermission, f"JOIN {table(Note)} n ON n.id = g.content_object_id", "n.resident_id"),
            (VisitGroupObjectPermission, f"JOIN {table(Visit)} v ON v.id = g.content_object_id "
                                         f"JOIN {table(Case)} c ON c.id = v.case_id", "c.resident_id"),
        ))
    return (f"WITH held AS ({records}) "
            f"SELECT o.id FROM {table(Organization)} o WHERE o.group_id IN (SELECT group_id FROM held) "
            f"UNION SELECT a.council_id FROM {table(District)} d JOIN {table(CouncilArea)} a "
            f"ON a.id = d.council_area_id WHERE d.group_id IN (SELECT group_id FROM held) "
            f"AND a.council_id IS NOT NULL")
