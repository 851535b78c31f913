"""Every POST under one Idempotency-Key protocol, and a replay that re-checks access.

Generated from the who-may-act table: every POST route is sent twice with one key
by a persona it succeeds for; the second answer is a replay (same status, no
second write), read again through the read side.
"""

from __future__ import annotations

import json
import re

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from rest_framework import viewsets

from api.models import IdempotencyRecord
from api.urls import IdRouter
from audit.models import AccessLogEntry
from cases import services
from cases.models import Referral
from tests.helpers import API, PERSONAS, refer, referral_consent
from tests.permissions.test_action_matrix import COLUMNS, EXPECTED, SPECS, subjects, unsafe_routes  # noqa: F401

SUCCESS = {"200", "201", "202", "204"}
POSTS = [(method, route, label, request) for method, route, label, request in SPECS if method == "POST"
         and any(cell in SUCCESS or cell.startswith("200 [") for cell in EXPECTED[label])]


def _rows() -> dict[str, int]:
    """Row counts of every table the application writes (the access log and the key store aside)."""
    skip = {"audit.accesslogentry", "api.idempotencyrecord", "api.apitoken", "sessions.session"}
    return {m._meta.label_lower: m.objects.count() for m in apps.get_models()
            if m._meta.app_label in {"cases", "api", "audit", "notifications", "permissions", "service_directory"}
            and m._meta.label_lower not in skip}


def test_every_post_route_is_covered_here():
    """Every POST route that some persona may take is replayed below. The referral transitions that cannot
    succeed on a requested referral (start, hold, ...) are built by the one `_transition` of
    api/views/referrals.py that accept, reject, cancel and enter-in-error replay here."""
    succeeding = {(method, route) for method, route, *_ in POSTS}
    uncovered = {r for r in unsafe_routes() if r[0] == "POST"} - succeeding
    # The integrations' routes succeed only for an org admin, whom no persona is: their replays are in
    # tests/integrations/test_clients.py and test_webhooks_api.py (registration, rotation, revocation).
    clients = {("POST", "/integrations/clients"), ("POST", "/integrations/clients/{pk}/rotate"),
               ("POST", "/integrations/clients/{pk}/revoke"), ("POST", "/integrations/webhooks"),
               *{("POST", f"/integrations/webhooks/{{pk}}/{verb}") for verb in ("rotate-secret", "pause", "resume",
                                                                                "replay")}}
    assert uncovered == {("POST", f"/referrals/{{pk}}/{verb}")
                         for verb in ("send", "start", "hold", "resume", "complete", "fail")} | clients


@pytest.mark.parametrize("label", [label for _, _, label, _ in POSTS])
def test_a_post_sent_twice_with_one_key_acts_once_and_replays(label, subjects, client_for):  # noqa: F811
    method, route, _, request = next(spec for spec in SPECS if spec[2] == label)
    persona = next(p for p, cell in zip(COLUMNS, EXPECTED[label], strict=True)
                   if cell in SUCCESS or cell.startswith("200 ["))
    client = client_for(persona, HTTP_IDEMPOTENCY_KEY="replay-" + re.sub(r"[^a-z0-9]+", "-", label))
    with transaction.atomic():
        path, body = request(subjects)
        first = client.post(f"{API}{path}", json.dumps(body), content_type="application/json")
        assert first.status_code < 300, (persona, first.content[:300])
        before = _rows()
        second = client.post(f"{API}{path}", json.dumps(body), content_type="application/json")
        assert (second.status_code, second["Idempotent-Replayed"]) == (first.status_code, "true"), second.content
        assert _rows() == before, label
        if first.content and "token" not in first.json():
            # A batch re-runs: each item answers 200 (already stored) the second time.
            assert second.json() == first.json() or label in {"upload a day's visits on tanaka's case",
                                                               "upload tanaka's safety check"}
        transaction.set_rollback(True)


def test_a_replay_re_checks_access_and_is_logged(world, client_for):
    """The receiver accepted with k1; then the referral was cancelled and the consent withdrawn: the replay of
    the accept no longer shows the reason, or anything: 404."""
    consent = referral_consent(world)
    referral = refer(client_for("care_worker"), world).json()
    caseworker = client_for("ward_caseworker", HTTP_IDEMPOTENCY_KEY="k1")
    accepted = caseworker.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert accepted.status_code == 200 and accepted.json()["reason"]
    replay = caseworker.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert replay["Idempotent-Replayed"] == "true" and replay.json()["reason"] == accepted.json()["reason"]
    assert AccessLogEntry.objects.filter(request_id=replay["X-Request-ID"]).exists()

    assert client_for("care_worker").post(f"{API}/referrals/{referral['id']}/cancel", {"reason": "取り下げ"},
                                          format="json").status_code == 200
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor="self")
    later = caseworker.post(f"{API}/referrals/{referral['id']}/accept", {}, format="json")
    assert (later.status_code, later["Idempotent-Replayed"]) == (200, "true")
    # The replay is today's read: the case is no longer visible to the section, so neither is the reason.
    assert later.json()["reason"] is None and later.json()["status"] == "cancelled"
    assert caseworker.get(f"{API}/referrals/{referral['id']}").json()["reason"] is None
    assert Referral.objects.get(pk=referral["id"]).status == "cancelled"


def test_a_report_sent_again_under_another_key_is_the_same_report(subjects, client_for):  # noqa: F811
    """A partner's reference is a report's own idempotency: a retry with a fresh key (a restarted sender)
    gets the same 202 and writes nothing."""
    _, _, label, request = next(spec for spec in SPECS if spec[1] == "/partner-reports")
    path, body = request(subjects)
    first = client_for("partner", HTTP_IDEMPOTENCY_KEY="first").post(f"{API}{path}", body, format="json")
    before = _rows()
    again = client_for("partner", HTTP_IDEMPOTENCY_KEY="second").post(f"{API}{path}", body, format="json")
    assert (again.status_code, again.content, _rows()) == (202, first.content, before)


def test_stored_answers_keep_no_body():
    assert "response_body" not in {f.name for f in IdempotencyRecord._meta.get_fields()}


def test_the_router_refuses_a_post_route_outside_the_protocol():
    class Plain(viewsets.GenericViewSet):
        def create(self, request):
            raise AssertionError

    with pytest.raises(ImproperlyConfigured):
        IdRouter().register("plain", Plain, basename="plain")


def test_the_personas_are_those_of_the_suite():
    assert set(COLUMNS) == set(PERSONAS)
