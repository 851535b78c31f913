"""The third-party provision log (第三者提供記録, APPI Art. 29): written whenever data goes to another organisation.

`permissions/grants.py` writes every grant row; after each bulk insert it calls
`provisions_record` with the new rows, in the same transaction. A row whose basis
is a third-party provision (`permissions.policy.THIRD_PARTY_PREFIXES`: consent, a
legal basis, a support meeting, a referral) and that opens a view permission
now or later becomes one record: date, recipient (the organisation behind the
group; for a commissioner district, its council), resident, data item (record
type and category) and basis. The unique constraint keeps one record per
recipient × resident × item × basis, so re-deriving grants (a new note under the
same consent, a rebuild) adds nothing. Kept three years (audit/retention.py).
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group
from django.utils import timezone

from audit.models import ProvisionRecord
from audit.switch import is_suspended
from backend.prepared import rows_where_any
from cases.models import Case, EvacuationListEntry, Note, Resident, Visit
from cases.models.consent import Category
from permissions.policy import THIRD_PARTY_PREFIXES

logger = logging.getLogger("audit.provisions")

ITEMS = {Resident: "resident", Case: "case", Note: "note", Visit: "visit", EvacuationListEntry: "evacuation_list"}
# An entry's grants open two items: the list's fields, and the individual evacuation plan.
ITEM_BY_CODENAME = {"view_evacuation_plan": "evacuation_plan"}


def _recipients(group_ids: set[int]) -> dict[int, int]:
    """Group → organisation: an organisation's own group, or a district's council (one query)."""
    rows = rows_where_any(_group_owners, "id", sorted(group_ids))
    return {group_id: organization_id or council_id for group_id, organization_id, council_id in rows
            if organization_id or council_id}


def _group_owners():
    return Group.objects.values_list("id", "organization__id", "district__council_area__council_id")


def _described(model, object_ids: set[int]) -> dict[int, tuple[int, str]]:
    """Object → (resident, category)."""
    if model is Resident:
        return {object_id: (object_id, Category.BASIC) for object_id in object_ids}
    if model is Case:
        rows = Case.objects.filter(id__in=object_ids).values_list("id", "resident_id")
        return {object_id: (resident_id, Category.BASIC) for object_id, resident_id in rows}
    if model is Note:
        rows = Note.objects.filter(id__in=object_ids).values_list("id", "resident_id", "category")
        return {object_id: (resident_id, category) for object_id, resident_id, category in rows}
    if model is Visit:
        rows = Visit.objects.filter(id__in=object_ids).values_list("id", "case__resident_id")
        return {object_id: (resident_id, Category.LIVING_SITUATION) for object_id, resident_id in rows}
    if model is EvacuationListEntry:
        rows = EvacuationListEntry.objects.filter(id__in=object_ids).values_list("id", "resident_id")
        return {object_id: (resident_id, Category.BASIC) for object_id, resident_id in rows}
    return {}


def provisions_record(*, rows: list, model, codenames: dict[int, str],
                      described: dict[int, tuple[int, str]] | None = None) -> int:
    """Record the third-party provisions among newly written grant rows; returns how many records were new.

    `described` (object → (resident, category)), when the writer already knows it, saves looking it up.
    """
    if is_suspended() or model not in ITEMS:
        return 0
    now = timezone.now()
    shared = [
        row for row in rows
        if row.basis.startswith(THIRD_PARTY_PREFIXES)
        and codenames.get(row.permission_id, "").startswith("view_")
        and row.valid_until > now
    ]
    if not shared:
        return 0
    recipients = _recipients({row.group_id for row in shared})
    if described is None:
        described = _described(model, {row.content_object_id for row in shared})
    records: dict[tuple, ProvisionRecord] = {}
    for row in shared:
        recipient_id = recipients.get(row.group_id)
        if recipient_id is None or row.content_object_id not in described:
            logger.warning("provision without a recipient organisation: group %s basis %s", row.group_id, row.basis)
            continue
        resident_id, category = described[row.content_object_id]
        item = ITEM_BY_CODENAME.get(codenames.get(row.permission_id, ""), ITEMS[model])
        key = (recipient_id, resident_id, item, category, row.basis)
        if key not in records:
            records[key] = ProvisionRecord(
                provided_at=max(now, row.valid_from), recorded_at=now, recipient_id=recipient_id,
                resident_id=resident_id, item=item, category=category, basis=row.basis,
                basis_code=row.basis.split(":", 1)[0],
            )
    created = ProvisionRecord.objects.bulk_create(list(records.values()), ignore_conflicts=True)
    return len(created)


def provisions_ensure(*, recipient_id: int, resident_id: int, items: list[tuple[str, str, str]], at) -> int:
    """An export hands these items — (item, category, basis), each under a third-party basis — to the
    recipient now: each has its provision record (one already written when the grant opened stays as it
    is; one retention removed after three years while the basis lasted is written again, dated now).
    How many records were new."""
    if is_suspended() or not items:
        return 0
    records = [ProvisionRecord(provided_at=at, recorded_at=at, recipient_id=recipient_id, resident_id=resident_id,
                               item=item, category=category, basis=basis, basis_code=basis.split(":", 1)[0])
               for item, category, basis in sorted(set(items)) if basis.startswith(THIRD_PARTY_PREFIXES)]
    before = ProvisionRecord.objects.filter(recipient_id=recipient_id, resident_id=resident_id).count()
    ProvisionRecord.objects.bulk_create(records, ignore_conflicts=True)
    return ProvisionRecord.objects.filter(recipient_id=recipient_id, resident_id=resident_id).count() - before
