"""The access policy: who may see and change what, derived from the sources of truth.

This module only *computes* the grants a record should have; `grants.py`
writes them and `access.py` reads them. Keeping the derivation pure lets the
rebuild and the consistency check share it with the live path.

The rules (DOMAIN.md; consent narrows them further):
- Commissioners act through their *district* group, never their council's
  organisation group: a commissioner sees the residents of the districts they
  are assigned to, and those residents' cases, while their term lasts.
- Every other member acts through their *organisation* group: an organisation
  sees the cases whose team it is on, and those cases' residents.
- The organisation that registered a resident sees and may correct them.
- The lead organisation changes the case; the resident's district changes it
  too when the lead is a commissioner council.
"""

from __future__ import annotations

from dataclasses import dataclass

from cases.models import Case, CaseTeamMember, Resident
from cases.models.choices import CaseStatus, OrganizationKind

Grant = tuple[int, str]  # (group id, permission codename)


@dataclass(frozen=True)
class ExpectedGrants:
    residents: dict[int, set[Grant]]
    cases: dict[int, set[Grant]]


def resident_expected_grants(resident: Resident, cases: list[Case], team_groups: dict[int, list[int]]) -> set[Grant]:
    district_group = resident.district.group_id
    grants = {(district_group, "view_resident"), (district_group, "change_resident")}
    registrar = resident.registered_by.group_id
    grants |= {(registrar, "view_resident"), (registrar, "change_resident")}
    for case in cases:
        for group_id in team_groups.get(case.id, []):
            grants.add((group_id, "view_resident"))
        if case.status != CaseStatus.CLOSED:
            grants.add((case.lead_organization.group_id, "change_resident"))
    return grants


def case_expected_grants(case: Case, team_groups: list[int]) -> set[Grant]:
    district_group = case.resident.district.group_id
    grants = {(district_group, "view_case")}
    grants |= {(group_id, "view_case") for group_id in team_groups}
    grants.add((case.lead_organization.group_id, "change_case"))
    if case.lead_organization.kind == OrganizationKind.COMMISSIONER_COUNCIL:
        grants.add((district_group, "change_case"))
    return grants


def team_groups_by_case(case_ids: list[int]) -> dict[int, list[int]]:
    rows = CaseTeamMember.objects.filter(case_id__in=case_ids).values_list("case_id", "organization__group_id")
    result: dict[int, list[int]] = {}
    for case_id, group_id in rows:
        result.setdefault(case_id, []).append(group_id)
    return result


def expected_for_residents(resident_ids: list[int]) -> ExpectedGrants:
    """Every grant the given residents and their cases should carry."""
    residents = Resident.objects.filter(id__in=resident_ids).select_related("district", "registered_by")
    cases = list(
        Case.objects.filter(resident_id__in=resident_ids).select_related("lead_organization", "resident__district")
    )
    team = team_groups_by_case([c.id for c in cases])
    by_resident: dict[int, list[Case]] = {}
    for case in cases:
        by_resident.setdefault(case.resident_id, []).append(case)
    return ExpectedGrants(
        residents={r.id: resident_expected_grants(r, by_resident.get(r.id, []), team) for r in residents},
        cases={c.id: case_expected_grants(c, team.get(c.id, [])) for c in cases},
    )
