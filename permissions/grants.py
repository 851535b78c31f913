"""The one writer of object permissions.

Services call `grants_sync_residents` after any change to a source of truth
(a resident's district, a case's team or lead, a registration, a consent)
inside the same transaction, so a reader never sees a record without its
grants or grants that outlived their reason. A visit upload, which changes
nothing but the new visit (and the safety check it may raise), calls
`grants_sync_new_visit` instead: the same rules for that visit only, in a
fixed number of statements whatever the resident's history. Every write is
set-wise: one COPY (or bulk insert) and one DELETE by row id per table.
`grants_rebuild` and `grants_check` use the same derivation for the whole
database, in batches.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from audit.provisions import provisions_record
from backend.prepared import rows_where_any
from cases.models import Case, EvacuationListEntry, Note, Resident, User, Visit
from permissions.memberships import memberships_sync_user
from permissions.models import (
    CaseGroupObjectPermission,
    EvacuationEntryGroupObjectPermission,
    NoteGroupObjectPermission,
    ResidentGroupObjectPermission,
    VisitGroupObjectPermission,
)
from permissions.policy import (
    ALWAYS_FROM,
    FOREVER,
    VISIT_CATEGORY,
    Grant,
    expected_entries_for_residents,
    expected_for_new_visit,
    expected_for_residents,
)

BATCH = 2000
DELETE_BATCH = 10_000  # row ids per DELETE (SQLite allows 32,766 parameters)


def _permission_ids(models) -> dict[type, dict[str, int]]:
    """For each model: codename → permission id (one query for all of them)."""
    content_types = ContentType.objects.get_for_models(*models)
    by_type = {content_type.id: model for model, content_type in content_types.items()}
    perms: dict[type, dict[str, int]] = {model: {} for model in models}
    for content_type_id, codename, permission_id in rows_where_any(_permissions, "content_type_id", sorted(by_type)):
        perms[by_type[content_type_id]][codename] = permission_id
    return perms


def _permissions():
    return Permission.objects.order_by().values_list("content_type_id", "codename", "id")


class Stored(dict):
    """The stored grants, object → set of grants, remembering each stored row's id (to delete it by id)."""

    def __init__(self):
        super().__init__()
        self.row_ids: dict[tuple[int, Grant], int] = {}


_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
_instants: dict[int, datetime.datetime] = {}


def _instant(microseconds: int) -> datetime.datetime:
    """An instant sent as microseconds since the epoch, as an aware datetime (memoised: a batch's ~200,000
    windows hold few distinct instants, and parsing each timestamp cost more than the database's reading it)."""
    instant = _instants.get(microseconds)
    if instant is None:
        if len(_instants) > 100_000:
            _instants.clear()
        instant = _instants[microseconds] = _EPOCH + datetime.timedelta(microseconds=microseconds)
    return instant


def _current(table, object_ids, names: dict[int, str], *, bases: list[str] | None = None) -> Stored:
    """The stored grants on these objects (optionally only under these bases).

    By the objects' ids, which the derivation knows (every case, note, visit and entry of the
    residents, stored grants or not): the grant tables' index answers it, where a join through
    visit → case → resident made the planner scan millions of rows for every batch.
    """
    current = Stored()
    object_ids = list(object_ids)
    if not object_ids:
        return current
    if connection.vendor == "postgresql":
        quoted = connection.ops.quote_name(table._meta.db_table)
        sql = (f"SELECT id, content_object_id, group_id, permission_id, "
               f"(EXTRACT(EPOCH FROM valid_from) * 1000000)::bigint, "
               f"(EXTRACT(EPOCH FROM valid_until) * 1000000)::bigint, basis "
               f"FROM {quoted} WHERE content_object_id = ANY(%s)")
        params: list = [object_ids]
        if bases is not None:
            sql += " AND basis = ANY(%s)"
            params.append(list(bases))
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = [(row_id, object_id, group_id, permission_id, _instant(start), _instant(end), basis)
                    for row_id, object_id, group_id, permission_id, start, end, basis in cursor.fetchall()]
    else:
        lookups = {"basis__in": list(bases)} if bases is not None else {}
        rows = []
        for start in range(0, len(object_ids), DELETE_BATCH):
            rows += table.objects.filter(content_object_id__in=object_ids[start:start + DELETE_BATCH], **lookups) \
                .order_by().values_list("id", "content_object_id", "group_id", "permission_id", "valid_from",
                                        "valid_until", "basis")
    for row_id, object_id, group_id, permission_id, start, end, basis in rows:
        grant = (group_id, names[permission_id], start, end, basis)
        current.setdefault(object_id, set()).add(grant)
        current.row_ids[(object_id, grant)] = row_id
    return current


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    disagreements: list[str] = field(default_factory=list)

    def extend(self, other: SyncReport) -> None:
        self.added += other.added
        self.removed += other.removed
        self.disagreements.extend(other.disagreements)


def _describe(label: str, object_id: int, grant: Grant, what: str) -> str:
    group_id, codename, start, end, basis = grant
    window = "" if (start, end) == (ALWAYS_FROM, FOREVER) else f" [{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}]"
    return f"{label} {object_id}: {what} {codename} for group {group_id} ({basis}){window}"


class GrantRow(NamedTuple):
    """One row of a group object-permission table, as written."""

    content_object_id: int
    group_id: int
    permission_id: int
    valid_from: datetime.datetime
    valid_until: datetime.datetime
    basis: str


def _insert(table, rows: list[GrantRow]) -> None:
    """Write new grant rows: COPY on PostgreSQL (a city's build writes millions), bulk_create elsewhere.

    COPY cannot skip conflicts and needs none: `rows` are what the policy wants minus what is stored,
    read under the residents' row locks, so no other writer can have added any of them meanwhile.
    """
    if connection.vendor != "postgresql":
        table.objects.bulk_create([table(**row._asdict()) for row in rows], ignore_conflicts=True, batch_size=5000)
        return
    columns = ", ".join(connection.ops.quote_name(column) for column in GrantRow._fields)
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {connection.ops.quote_name(table._meta.db_table)} ({columns}) FROM STDIN"
    ) as copy:
        for row in rows:
            copy.write_row(row)


def _apply(table, model, label: str, expected: dict[int, set[Grant]], current: Stored,
           perms: dict[str, int], *, write: bool, report: SyncReport,
           described: dict[int, tuple[int, str]] | None = None) -> None:
    """Add the missing grants and remove the extra ones (write), or describe each disagreement (check).

    Set-wise whatever the number of rows: the extra rows go in DELETEs by id (one per 10,000 rows),
    the missing ones in one COPY, their provision records in one insert. A withdrawal that ends the
    windows of every note and visit of a resident is a handful of statements, not one per row.
    """
    names = {pk: codename for codename, pk in perms.items()}
    to_add: list[GrantRow] = []
    to_remove: list[tuple[int, Grant]] = []
    for object_id in sorted(expected.keys() | current.keys()):
        wanted, have = expected.get(object_id, set()), current.get(object_id, set())
        missing, extra = sorted(wanted - have), sorted(have - wanted)
        to_add.extend(GrantRow(object_id, group_id, perms[codename], start, end, basis)
                      for group_id, codename, start, end, basis in missing)
        to_remove.extend((object_id, grant) for grant in extra)
        if not write:  # only a check describes: a city's build writes millions of rows
            report.disagreements.extend(_describe(label, object_id, grant, "missing") for grant in missing)
            report.disagreements.extend(_describe(label, object_id, grant, "extra") for grant in extra)
    report.added += len(to_add)
    report.removed += len(to_remove)
    if not write:
        return
    if to_add:
        _insert(table, to_add)
        # APPI 第三者提供記録, in the same transaction.
        provisions_record(rows=to_add, model=model, codenames=names, described=described)
    row_ids = [current.row_ids[item] for item in to_remove]
    for start in range(0, len(row_ids), DELETE_BATCH):
        # The raw delete: grant rows have no dependants, signals or cascades to collect first.
        table.objects.filter(id__in=row_ids[start:start + DELETE_BATCH])._raw_delete(connection.alias)


TABLES = (  # grant table, record, label, attribute of ExpectedGrants
    (ResidentGroupObjectPermission, Resident, "resident", "residents"),
    (CaseGroupObjectPermission, Case, "case", "cases"),
    (NoteGroupObjectPermission, Note, "note", "notes"),
    (VisitGroupObjectPermission, Visit, "visit", "visits"),
    (EvacuationEntryGroupObjectPermission, EvacuationListEntry, "evacuation entry", "entries"),
)


def grants_sync_residents(*, resident_ids: list[int], write: bool = True) -> SyncReport:
    """Make the grants of these residents and all their cases, notes and visits match the policy.

    Writers lock the residents' rows first, so two concurrent changes about one
    resident derive and write one after the other.
    """
    report = SyncReport()
    if not resident_ids:
        return report
    with transaction.atomic():
        if write:
            list(Resident.objects.select_for_update().filter(id__in=resident_ids).values_list("id", flat=True))
        expected = expected_for_residents(resident_ids)
        permissions = _permission_ids([model for _, model, *_ in TABLES])
        for table, model, label, attribute in TABLES:
            perms = permissions[model]
            wanted = getattr(expected, attribute)
            current = _current(table, wanted.keys(), {pk: codename for codename, pk in perms.items()})
            _apply(table, model, label, wanted, current, perms, write=write, report=report)
    return report


def grants_sync_new_visit(*, visit: Visit) -> SyncReport:
    """Give a just-recorded visit its grants (and the safety check it raised its grants on the resident and
    case), in the visit's transaction; nothing else about the resident is re-derived.

    The same rules as `grants_sync_residents` (`policy.expected_for_new_visit`), but for the rows a visit
    upload can change: the visit's own, and on the resident and its cases those under the bases of the
    visit's safety checks. A fixed number of statements whatever the resident's history. Takes the
    resident's row lock first, as every writer of the resident's grants does.
    """
    report = SyncReport()
    with transaction.atomic():
        visit_id, resident_id = visit.id, visit.case.resident_id
        list(Resident.objects.select_for_update().filter(id=resident_id).values_list("id", flat=True))
        expected = expected_for_new_visit(visit)
        if expected is None:
            return report
        permissions = _permission_ids([Resident, Case, Visit])
        names = {model: {pk: codename for codename, pk in perms.items()} for model, perms in permissions.items()}
        current = _current(VisitGroupObjectPermission, [visit_id], names[Visit])
        _apply(VisitGroupObjectPermission, Visit, "visit", {visit_id: expected.visit}, current, permissions[Visit],
               write=True, report=report, described={visit_id: (resident_id, VISIT_CATEGORY)})
        if expected.bases:
            for table, model, label, wanted, object_ids in (
                (ResidentGroupObjectPermission, Resident, "resident", expected.residents, [resident_id]),
                (CaseGroupObjectPermission, Case, "case", expected.cases, expected.case_ids),
            ):
                current = _current(table, object_ids, names[model], bases=sorted(expected.bases))
                _apply(table, model, label, wanted, current, permissions[model], write=True, report=report)
    return report


def grants_sync_entries(*, resident_ids: list[int]) -> SyncReport:
    """Make only the evacuation-list grants of these residents match the policy (a disaster's declaration and
    closing change nothing else: the same derivation as `grants_sync_residents`, for one table)."""
    report = SyncReport()
    if not resident_ids:
        return report
    table, model, label, _ = TABLES[-1]
    with transaction.atomic():
        list(Resident.objects.select_for_update().filter(id__in=resident_ids).values_list("id", flat=True))
        perms = _permission_ids([model])[model]
        wanted = expected_entries_for_residents(resident_ids)
        current = _current(table, wanted.keys(), {pk: codename for codename, pk in perms.items()})
        _apply(table, model, label, wanted, current, perms, write=True, report=report)
    return report


def _resident_id_batches() -> Iterator[list[int]]:
    last = 0
    while True:
        ids = list(Resident.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:BATCH])
        if not ids:
            return
        yield ids
        last = ids[-1]



def grants_rebuild(*, write: bool = True, progress=None) -> SyncReport:
    """Recompute every grant from the sources of truth (write=False: only report)."""
    total = SyncReport()
    for ids in _resident_id_batches():
        total.extend(grants_sync_residents(resident_ids=ids, write=write))
        if progress:
            progress(len(ids))
    global_grants = _global_view_grants()
    total.disagreements.extend(global_grants)
    for user in User.objects.filter(is_active=True).only("id").iterator():
        total.disagreements.extend(memberships_sync_user(user=user, write=write))
    return total


def grants_check() -> list[str]:
    """Every disagreement between the stored grants and the policy; empty when consistent."""
    return grants_rebuild(write=False).disagreements


def _global_view_grants() -> list[str]:
    """Model-level view permissions on sensitive models would bypass the policy: report them."""
    problems = []
    for model in (Resident, Case, Note, Visit, EvacuationListEntry):
        perms = Permission.objects.filter(content_type=ContentType.objects.get_for_model(model))
        for group in Group.objects.filter(permissions__in=perms).distinct():
            problems.append(f"group {group.pk} holds a model-level permission on {model._meta.label}")
        for user in User.objects.filter(user_permissions__in=perms).distinct():
            problems.append(f"user {user.pk} holds a model-level permission on {model._meta.label}")
    return problems
