"""Who is asking costs one round trip: the token, its user and their active memberships in one query.

The look-up reads everything at the moment of the request, so a revocation, an expiry, a deactivation or
a term's end counts on the very next request of the same client; and the actor it finds is the one
`permissions.actors` would have loaded by itself.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from api.models import ApiToken
from api.tokens import token_authenticate, token_issue
from cases.models import Membership
from permissions.actors import _load, actor_for, actors_remembered
from tests.factories import DistrictFactory, MembershipFactory
from tests.helpers import PERSONAS

pytestmark = pytest.mark.django_db


def bearer(plaintext: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def _warm(client: APIClient, path: str) -> None:
    assert client.get(path).status_code == 200  # touches the token's last use once (every 15 minutes)


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_token_look_up_finds_the_same_actor_as_the_membership_query(persona, world):
    user = world.users[persona]
    _, plaintext = token_issue(user=user, name="phone")
    ApiToken.objects.filter(user=user).update(last_used_at=timezone.now())
    with actors_remembered():
        with CaptureQueriesContext(connection) as queries:
            token = token_authenticate(plaintext)
            actor = actor_for(user=token.user)
        assert len(queries) == 1, [q["sql"] for q in queries]
        assert actor == _load(user)


def test_a_commissioner_of_several_districts_and_organisations_is_found_whole(world):
    user = world.users["commissioner_a"]
    extra = DistrictFactory(council_area=world.district_a.council_area)
    MembershipFactory(user=user, organization=world.council, role="commissioner", districts=[world.district_b, extra])
    MembershipFactory(user=user, organization=world.npo, role="worker")
    _, plaintext = token_issue(user=user, name="phone")
    with actors_remembered():
        actor = actor_for(user=token_authenticate(plaintext).user)
    assert actor == _load(user)
    assert actor.commissioner_district_ids == {world.district_a.id, world.district_b.id, extra.id}
    assert len(actor.standings) == 3


def test_outside_a_request_nothing_is_kept(world):
    user = world.users["care_worker"]
    _, plaintext = token_issue(user=user, name="phone")
    token_authenticate(plaintext)
    with CaptureQueriesContext(connection) as queries:
        assert actor_for(user=user).member
    assert len(queries) == 1  # asked again: no answer outlives its request


# --- Each change counts on the very next request of the same client ------------------------------

def test_revocation_counts_on_the_next_request(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="phone")
    client = bearer(plaintext)
    _warm(client, "/api/v1/residents")
    ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now())
    assert client.get("/api/v1/residents").status_code == 401


def test_expiry_counts_on_the_next_request(world):
    token, plaintext = token_issue(user=world.users["care_worker"], name="phone")
    client = bearer(plaintext)
    _warm(client, "/api/v1/residents")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get("/api/v1/residents").status_code == 401


def test_a_deactivated_user_is_refused_on_the_next_request(world):
    user = world.users["care_worker"]
    _, plaintext = token_issue(user=user, name="phone")
    client = bearer(plaintext)
    _warm(client, "/api/v1/residents")
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/v1/residents").status_code == 401


def test_a_term_end_counts_on_the_next_request(world):
    user = world.users["commissioner_a"]
    _, plaintext = token_issue(user=user, name="phone")
    client = bearer(plaintext)
    assert world.tanaka.id in {row["id"] for row in client.get("/api/v1/residents").json()["results"]}
    Membership.objects.filter(user=user).update(valid_until=timezone.now() - datetime.timedelta(seconds=1))
    response = client.get("/api/v1/residents")
    assert (response.status_code, response.json()["code"]) == (403, "no_active_membership")


def test_a_term_that_starts_counts_on_the_next_request(world):
    user = world.users["commissioner_a"]
    membership = Membership.objects.get(user=user)
    start = timezone.now() + datetime.timedelta(days=1)
    Membership.objects.filter(pk=membership.pk).update(valid_from=start)
    client = bearer(token_issue(user=user, name="phone")[1])
    assert client.get("/api/v1/residents").json()["code"] == "no_active_membership"
    Membership.objects.filter(pk=membership.pk).update(valid_from=timezone.now() - datetime.timedelta(seconds=1))
    assert client.get("/api/v1/residents").status_code == 200


# --- Pinned: a cheap authenticated route costs the look-up and its page ---------------------------

def test_a_cheap_member_route_costs_one_query_for_who_is_asking(world, django_assert_num_queries):
    client = bearer(token_issue(user=world.users["care_worker"], name="phone")[1])
    _warm(client, "/api/v1/districts")
    with django_assert_num_queries(2):  # who is asking (token, user, memberships, groups); the page
        assert client.get("/api/v1/districts").status_code == 200


def test_who_am_i_costs_the_look_up_and_the_memberships_listed(world, django_assert_num_queries):
    client = bearer(token_issue(user=world.users["commissioner_a"], name="phone")[1])
    _warm(client, "/api/v1/me")
    with django_assert_num_queries(3):  # who is asking; the memberships listed, with their districts
        assert client.get("/api/v1/me").status_code == 200

