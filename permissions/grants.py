"""The one writer of object permissions.

Services call `grants_sync_residents` after any change to a source of truth
(a resident's district, a case's team or lead, a registration) inside the same
transaction, so a reader never sees a record without its grants or grants
that outlived their reason. `grants_rebuild` and `grants_check` use the same
derivation for the whole database, in batches.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction

from audit.provisions import provisions_record
from cases.models import Case, EvacuationListEntry, Note, Resident, User, Visit
from permissions.memberships import memberships_sync_user
from permissions.models import (
    CaseGroupObjectPermission,
    EvacuationEntryGroupObjectPermission,
    NoteGroupObjectPermission,
    ResidentGroupObjectPermission,
    VisitGroupObjectPermission,
)
from permissions.policy import ALWAYS_FROM, FOREVER, Grant, expected_entries_for_residents, expected_for_residents

BATCH = 2000


def _permission_ids(models) -> dict[type, dict[str, int]]:
    """For each model: codename → permission id (one query for all of them)."""
    content_types = ContentType.objects.get_for_models(*models)
    by_type = {content_type.id: model for model, content_type in content_types.items()}
    perms: dict[type, dict[str, int]] = {model: {} for model in models}
    rows = Permission.objects.filter(content_type__in=content_types.values()).order_by().values_list(
        "content_type_id", "codename", "id")
    for content_type_id, codename, permission_id in rows:
        perms[by_type[content_type_id]][codename] = permission_id
    return perms


def _current(table, resident_path: str, resident_ids: list[int], names: dict[int, str]) -> dict[int, set[Grant]]:
    """The stored grants on every object of these residents (through a join: a batch has ~40,000 visits)."""
    current: dict[int, set[Grant]] = defaultdict(set)
    rows = table.objects.filter(**{f"{resident_path}__in": resident_ids}).values_list(
        "content_object_id", "group_id", "permission_id", "valid_from", "valid_until", "basis"
    )
    for object_id, group_id, permission_id, start, end, basis in rows:
        current[object_id].add((group_id, names[permission_id], start, end, basis))
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


def _apply(table, model, label: str, expected: dict[int, set[Grant]], current: dict[int, set[Grant]],
           perms: dict[str, int], *, write: bool, report: SyncReport) -> None:
    """Add the missing grants and remove the extra ones (write), or describe each disagreement (check)."""
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
        provisions_record(rows=to_add, model=model, codenames=names)  # APPI 第三者提供記録, same transaction
    for object_id, (group_id, codename, start, end, basis) in to_remove:
        table.objects.filter(content_object_id=object_id, group_id=group_id, permission_id=perms[codename],
                             valid_from=start, valid_until=end, basis=basis).delete()


TABLES = (  # grant table, record, label, attribute of ExpectedGrants, path from a grant row to its resident
    (ResidentGroupObjectPermission, Resident, "resident", "residents", "content_object_id"),
    (CaseGroupObjectPermission, Case, "case", "cases", "content_object__resident_id"),
    (NoteGroupObjectPermission, Note, "note", "notes", "content_object__resident_id"),
    (VisitGroupObjectPermission, Visit, "visit", "visits", "content_object__case__resident_id"),
    (EvacuationEntryGroupObjectPermission, EvacuationListEntry, "evacuation entry", "entries",
     "content_object__resident_id"),
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
        for table, model, label, attribute, resident_path in TABLES:
            perms = permissions[model]
            current = _current(table, resident_path, resident_ids, {pk: codename for codename, pk in perms.items()})
            _apply(table, model, label, getattr(expected, attribute), current, perms, write=write, report=report)
    return report


def grants_sync_entries(*, resident_ids: list[int]) -> SyncReport:
    """Make only the evacuation-list grants of these residents match the policy (a disaster's declaration and
    closing change nothing else: the same derivation as `grants_sync_residents`, for one table)."""
    report = SyncReport()
    if not resident_ids:
        return report
    table, model, label, _, resident_path = TABLES[-1]
    with transaction.atomic():
        list(Resident.objects.select_for_update().filter(id__in=resident_ids).values_list("id", flat=True))
        perms = _permission_ids([model])[model]
        current = _current(table, resident_path, resident_ids, {pk: codename for codename, pk in perms.items()})
        _apply(table, model, label, expected_entries_for_residents(resident_ids), current, perms, write=True,
               report=report)
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
