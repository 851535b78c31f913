"""Pinned query counts on the list endpoints: the same number for a short and a long page.

Each list is read by care_worker with few rows, then with 19 more (made by the
factories, with the grants that make them visible), and must take exactly the
pinned number of queries both times: the cost of a page does not grow with its
rows (no N+1). A change in the pin is a change in the cost of every request,
so it has to be made on purpose.

Every count includes the request's own overhead (the token look-up, which finds
the user's active memberships and groups in the same query), measured after a warm-up request so the
token's `last_used_at` touch (at most every 15 minutes) is not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from api.tokens import token_issue
from cases.models.choices import OrganizationKind
from tests.factories import CaseFactory, DistrictFactory, OrganizationFactory, ResidentFactory

PERSONA = "care_worker"
EXTRA = 19


def _more_organizations(world) -> None:
    for _ in range(EXTRA):
        OrganizationFactory(kind=OrganizationKind.PARTNER_BUSINESS, ward=world.care_centre.ward)


def _more_districts(world) -> None:
    for _ in range(EXTRA):
        DistrictFactory(council_area=world.district_a.council_area)


def _more_residents(world) -> None:
    # Registered by the care centre, so its workers see (and may correct) them.
    for _ in range(EXTRA):
        ResidentFactory(district=world.district_a, registered_by=world.care_centre)


def _more_cases(world) -> None:
    # Led by the care centre, with teams of different sizes and different lead workers.
    teams = [[], [world.npo], [world.npo, world.ward_section]]
    leads = [world.users["care_worker"], world.users["care_supervisor"], None]
    for i in range(EXTRA):
        resident = ResidentFactory(district=world.district_b, registered_by=world.care_centre)
        CaseFactory(resident=resident, lead_organization=world.care_centre, lead_worker=leads[i % 3],
                    team=[world.care_centre, *teams[i % 3]])


def _more_tokens(world) -> None:
    for i in range(EXTRA):
        token_issue(user=world.users[PERSONA], name=f"phone {i}")


@dataclass(frozen=True)
class ListEndpoint:
    path: str
    params: dict
    few: int  # rows the persona sees in the conftest world
    add_rows: Callable
    queries: int  # the pin


# Every member route: the token look-up, which also finds the caller's active memberships and groups for
# the whole request (1). Directories: + the page (2). Residents: + the page, and the access log: the grants'
# bases (through those groups) and the one log insert (4). Cases: + the page found as its keys, each with the
# bases it is seen through (the log looks none up), its rows read by key, the teams, and the log insert (5).
# /me/tokens: the same gate (1), + the page.
LISTS = {
    # Only partner businesses: one in the world, so the short page has exactly one row.
    "organizations": ListEndpoint("/api/v1/organizations", {"kind": "partner_business"}, 1, _more_organizations, 2),
    "districts": ListEndpoint("/api/v1/districts", {}, 2, _more_districts, 2),
    "residents": ListEndpoint("/api/v1/residents", {}, 1, _more_residents, 4),
    "cases": ListEndpoint("/api/v1/cases", {}, 1, _more_cases, 5),
    "me/tokens": ListEndpoint("/api/v1/me/tokens", {}, 1, _more_tokens, 2),
}


@pytest.mark.parametrize("name", LISTS)
def test_list_cost_is_pinned_and_constant_in_rows(name, world, client_for, django_assert_num_queries):
    endpoint = LISTS[name]
    client = client_for(PERSONA)
    assert client.get(endpoint.path, endpoint.params).status_code == 200  # warm-up: touches the token once

    with django_assert_num_queries(endpoint.queries):
        response = client.get(endpoint.path, endpoint.params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == endpoint.few

    endpoint.add_rows(world)
    with django_assert_num_queries(endpoint.queries):
        response = client.get(endpoint.path, endpoint.params)
    assert response.status_code == 200
    assert len(response.json()["results"]) == endpoint.few + EXTRA
