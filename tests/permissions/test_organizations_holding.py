"""Who holds a resident (`organizations_holding`, told when consent about them changes): one hand-written
statement, checked against the grant tables read row by row through the ORM."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from cases.models import District, Organization, Resident
from permissions.access import organizations_holding
from permissions.models import (
    CaseGroupObjectPermission,
    NoteGroupObjectPermission,
    ResidentGroupObjectPermission,
    VisitGroupObjectPermission,
)


def _by_rows(resident_id: int, at: datetime.datetime) -> set[int]:
    groups = set()
    for grants, resident_of in ((ResidentGroupObjectPermission, lambda g: g.content_object_id),
                                (CaseGroupObjectPermission, lambda g: g.content_object.resident_id),
                                (NoteGroupObjectPermission, lambda g: g.content_object.resident_id),
                                (VisitGroupObjectPermission, lambda g: g.content_object.case.resident_id)):
        groups |= {g.group_id for g in grants.objects.all() if resident_of(g) == resident_id
                   and g.valid_from <= at < g.valid_until}
    held = {org.id for org in Organization.objects.all() if org.group_id in groups}
    held |= {d.council_area.council_id for d in District.objects.all()
             if d.group_id in groups and d.council_area.council_id is not None}
    return held


@pytest.mark.parametrize("ago", [datetime.timedelta(0), datetime.timedelta(days=3), datetime.timedelta(days=3650)],
                         ids=["now", "three-days-ago", "ten-years-ago"])
def test_every_resident_s_holders_are_those_the_grant_rows_name(world, ago):
    at = timezone.now() - ago
    found = {resident.id: organizations_holding(resident_id=resident.id, at=at) for resident in Resident.objects.all()}
    assert found == {resident_id: _by_rows(resident_id, at) for resident_id in found}
    if not ago:
        assert world.council.id in found[world.tanaka.id]  # the district's grants are its council's
        assert any(holders - {world.council.id} for holders in found.values())
