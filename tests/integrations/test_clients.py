"""Organisation API clients: registered by an org admin, scoped, never wider than the organisation, rotated
with two valid keys, revoked at once, and access-logged under the client, its organisation and purpose."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import AccessLogEntry
from integrations.models import ClientSecret, OrganizationClient
from tests.helpers import API, PERSONAS, machine, register

CLIENTS = f"{API}/integrations/clients"


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def test_the_key_is_shown_once_and_only_its_hash_is_stored(world, admin_for):
    admin = admin_for("care_centre")
    created = register(admin, scopes=["residents.read"])
    assert created["key"].startswith("mmc_") and created["organization"] == world.care_centre.id
    secret = created["key"].split("_", 2)[2]  # mmc_<key id>_<secret>; the secret itself may hold "_"
    assert not ClientSecret.objects.filter(secret_hash__contains=secret).exists()
    listed = admin.get(CLIENTS).json()["results"]
    assert [row["id"] for row in listed] == [created["id"]] and "key" not in listed[0]
    assert "key" not in admin.get(f"{CLIENTS}/{created['id']}").json()
    assert len(listed[0]["valid_secrets"]) == 1


@pytest.mark.parametrize("persona", PERSONAS)
def test_nobody_but_an_org_admin_registers_or_sees_clients(persona, world, admin_for, client_for):
    created = register(admin_for("care_centre"), scopes=["residents.read"])
    other = client_for(persona)
    expected = "403 no_active_membership" if persona == "expired_commissioner" else "403 org_admin_required"
    answer = other.post(CLIENTS, {"name": "x", "scopes": ["residents.read"], "purposes": ["watch_over"]},
                        format="json")
    assert f"{answer.status_code} {answer.json()['code']}" == expected
    if persona != "expired_commissioner":
        assert ids(other.get(CLIENTS)) == set()
        assert other.get(f"{CLIENTS}/{created['id']}").status_code == 404
        assert other.post(f"{CLIENTS}/{created['id']}/revoke", {}, format="json").status_code == 404
    assert OrganizationClient.objects.get().revoked_at is None


def test_another_organisations_admin_finds_no_such_client(world, admin_for):
    created = register(admin_for("care_centre"), scopes=["residents.read"])
    npo_admin = admin_for("npo")
    for path in (f"{CLIENTS}/{created['id']}/rotate", f"{CLIENTS}/{created['id']}/revoke"):
        assert npo_admin.post(path, {}, format="json").json()["code"] == "not_found"
    assert npo_admin.post(CLIENTS, {"name": "x", "scopes": ["residents.read"], "purposes": ["watch_over"],
                                    "organization": world.care_centre.id}, format="json").json()["code"] == \
        "org_admin_required"


def test_a_client_acts_as_a_worker_of_its_organisation_never_more(world, admin_for, client_for):
    key = register(admin_for("care_centre"), scopes=["residents.read"])["key"]
    client = machine(key)
    worker = client_for("care_worker")
    assert ids(client.get(f"{API}/residents")) == ids(worker.get(f"{API}/residents")) == {world.tanaka.id}
    assert ids(client.get(f"{API}/cases")) == {world.tanaka_case.id}
    assert client.get(f"{API}/residents/{world.suzuki.id}").json()["code"] == "not_found"
    assert client.get(f"{API}/cases/{world.suzuki_case.id}").json()["code"] == "not_found"
    # A client of the other care centre sees nobody: its organisation holds nobody.
    other = machine(register(admin_for("care_centre_2"), scopes=["residents.read"])["key"])
    assert ids(other.get(f"{API}/residents")) == set()
    assert other.get(f"{API}/residents/{world.tanaka.id}").status_code == 404


def test_a_narrower_scope_answers_403_outside_it(world, admin_for):
    client = machine(register(admin_for("care_centre"), scopes=["tasks.read"])["key"])
    assert client.get(f"{API}/tasks/queue").status_code == 200
    for method, path in (("get", f"{API}/residents"), ("get", f"{API}/residents/{world.tanaka.id}"),
                         ("get", f"{API}/me/tokens"), ("get", CLIENTS), ("get", f"{API}/audit/access-log"),
                         ("post", f"{API}/notes"), ("post", CLIENTS), ("get", f"{API}/me")):
        answer = getattr(client, method)(path, {}, format="json")
        assert (answer.status_code, answer.json()["code"]) == (403, "client_scope_denied"), (method, path)


def test_an_organisation_that_holds_no_records_gets_no_record_scopes(world, admin_for):
    answer = admin_for("partner_business").post(
        CLIENTS, {"name": "配達システム", "scopes": ["residents.read"], "purposes": ["watch_over"]}, format="json")
    assert (answer.status_code, answer.json()["code"]) == (403, "client_beyond_organization")
    assert not OrganizationClient.objects.exists()


def test_bad_scopes_and_purposes_are_400(world, admin_for):
    admin = admin_for("care_centre")
    for body in ({"name": "x", "scopes": ["everything"], "purposes": ["watch_over"]},
                 {"name": "x", "scopes": [], "purposes": ["watch_over"]},
                 {"name": "x", "scopes": ["tasks.read"], "purposes": ["marketing"]},
                 {"name": "x", "scopes": ["tasks.read"], "purposes": ["watch_over"], "extra": 1}):
        answer = admin.post(CLIENTS, body, format="json")
        assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json", body


def test_a_revoked_client_stops_on_the_next_request(world, admin_for):
    admin = admin_for("care_centre")
    created = register(admin, scopes=["residents.read"])
    client = machine(created["key"])
    assert client.get(f"{API}/residents").status_code == 200
    assert admin.post(f"{CLIENTS}/{created['id']}/revoke", {}, format="json").json()["revoked_at"]
    answer = client.get(f"{API}/residents")
    assert (answer.status_code, answer.json()["code"]) == (401, "authentication_failed")
    assert admin.post(f"{CLIENTS}/{created['id']}/rotate", {}, format="json").json()["code"] == "client_revoked"


def test_two_keys_work_during_a_rotation_never_three(world, admin_for):
    admin = admin_for("care_centre")
    created = register(admin, scopes=["residents.read"])
    first = machine(created["key"])
    rotated = admin.post(f"{CLIENTS}/{created['id']}/rotate", {"overlap_hours": 2}, format="json")
    assert rotated.status_code == 201
    second = machine(rotated.json()["key"])
    assert first.get(f"{API}/residents").status_code == second.get(f"{API}/residents").status_code == 200
    assert len(rotated.json()["valid_secrets"]) == 2
    # A second rotation during the overlap: the newest previous key stays, the oldest stops at once.
    third = machine(admin.post(f"{CLIENTS}/{created['id']}/rotate", {}, format="json").json()["key"])
    assert first.get(f"{API}/residents").status_code == 401
    assert second.get(f"{API}/residents").status_code == third.get(f"{API}/residents").status_code == 200
    # The overlap ends: only the newest key works.
    ClientSecret.objects.filter(expires_at__isnull=False).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert second.get(f"{API}/residents").status_code == 401
    assert third.get(f"{API}/residents").status_code == 200
    # No overlap: the previous key stops now.
    fourth = machine(admin.post(f"{CLIENTS}/{created['id']}/rotate", {"overlap_hours": 0}, format="json")
                     .json()["key"])
    assert third.get(f"{API}/residents").status_code == 401
    assert fourth.get(f"{API}/residents").status_code == 200
    assert admin.post(f"{CLIENTS}/{created['id']}/rotate", {"overlap_hours": 24 * 8}, format="json"
                      ).status_code == 400


def test_a_malformed_or_unknown_key_is_401(world):
    for key in ("mmc_000000000000_" + "a" * 43, "mmc_short", "mmc_zzzzzzzzzzzz_" + "a" * 43):
        assert machine(key).get(f"{API}/residents").status_code == 401


def test_reads_are_logged_under_the_client_its_organisation_and_purpose(world, admin_for):
    created = register(admin_for("care_centre"), scopes=["residents.read"], purposes=["watch_over", "referral"])
    client = OrganizationClient.objects.get(pk=created["id"])
    missing = machine(created["key"]).get(f"{API}/residents/{world.tanaka.id}")
    assert (missing.status_code, missing.json()["code"]) == (400, "client_purpose_required")
    denied = machine(created["key"], HTTP_X_PURPOSE="case_conference").get(f"{API}/residents/{world.tanaka.id}")
    assert (denied.status_code, denied.json()["code"]) == (403, "client_purpose_denied")
    answer = machine(created["key"], HTTP_X_PURPOSE="referral").get(f"{API}/residents/{world.tanaka.id}")
    assert answer.status_code == 200
    entries = list(AccessLogEntry.objects.filter(request_id=answer["X-Request-ID"]))
    assert entries and {(e.user_id, e.username, e.resident_id) for e in entries} == {
        (client.user_id, f"client:{client.id}/org:{world.care_centre.id}/purpose:referral", world.tanaka.id)}
    assert all(e.bases for e in entries)  # through the care centre's own grants


def test_a_registration_replayed_with_one_key_registers_once_without_the_key(world, admin_for):
    admin = admin_for("care_centre")
    body = {"name": "ケース管理システム", "scopes": ["tasks.read"], "purposes": ["watch_over"]}
    first = admin.post(CLIENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="register-1")
    second = admin.post(CLIENTS, body, format="json", HTTP_IDEMPOTENCY_KEY="register-1")
    assert (second.status_code, second["Idempotent-Replayed"]) == (201, "true")
    assert "key" in first.json() and "key" not in second.json()
    assert second.json()["id"] == first.json()["id"] and OrganizationClient.objects.count() == 1
    path = f"{CLIENTS}/{first.json()['id']}/rotate"
    rotated = admin.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="rotate-1")
    again = admin.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="rotate-1")
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert "key" in rotated.json() and "key" not in again.json() and ClientSecret.objects.count() == 2
    path = f"{CLIENTS}/{first.json()['id']}/revoke"
    revoked = admin.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="revoke-1")
    again = admin.post(path, {}, format="json", HTTP_IDEMPOTENCY_KEY="revoke-1")
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true") and again.json() == revoked.json()


def test_a_client_works_its_organisations_referral_inbox_as_a_worker_would(world, admin_for, client_for):
    from cases import services
    from tests.helpers import referral_consent

    referral_consent(world, recipient=world.care_centre_2)
    referral = services.referral_create(
        actor=world.users["care_worker"], case=world.tanaka_case, receiver_organization=world.care_centre_2,
        reason="専門職による評価をお願いします", categories=["basic", "health"])
    created = register(admin_for("care_centre_2"), scopes=["referrals.read", "referrals.work"],
                       purposes=["referral"])
    client = machine(created["key"])
    assert ids(client.get(f"{API}/referrals/inbox")) == {referral.id}
    # Sending is the sender's, and not in its scopes anyway; cancelling is the sender's too.
    assert client.post(f"{API}/referrals/{referral.id}/cancel", {"reason": "x"},
                       format="json").json()["code"] == "client_scope_denied"
    accepted = client.post(f"{API}/referrals/{referral.id}/accept", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    account = OrganizationClient.objects.get(pk=created["id"]).user
    label = f"client:{created['id']}/org:{world.care_centre_2.id}/purpose:referral"
    written = AccessLogEntry.objects.filter(request_id=accepted["X-Request-ID"])
    assert written.exists() and set(written.values_list("user_id", "username")) == {(account.id, label)}
    # A client of an organisation that is no party to the referral sees nothing of it.
    outsider = machine(register(admin_for("npo"), scopes=["referrals.read"])["key"])
    assert ids(outsider.get(f"{API}/referrals/inbox")) == set()
    assert outsider.get(f"{API}/referrals/{referral.id}").status_code == 404


def test_a_clients_key_costs_one_query_for_who_is_asking_like_a_token(world, admin_for, client_for,
                                                                     django_assert_num_queries):
    created = admin_for("care_centre").post(
        CLIENTS, {"name": "ケース管理システム", "scopes": ["tasks.read"], "purposes": ["watch_over"]},
        format="json")
    assert created.status_code == 201, created.content
    client = machine(created.json()["key"])
    assert client.get(f"{API}/tasks/queue").status_code == 200  # touches the key's last use once
    with CaptureQueriesContext(connection) as base:
        assert client.get(f"{API}/tasks/queue").status_code == 200
    key_costs = len(base)  # read now: the next request resets the connection's query log
    assert key_costs == 2  # who is asking (key, client, account, organisation); the queue's page
    worker = client_for("care_worker")
    assert worker.get(f"{API}/tasks/queue").status_code == 200
    with django_assert_num_queries(key_costs):  # a worker's token and the client's key cost the same
        assert worker.get(f"{API}/tasks/queue").status_code == 200
