"""A visit upload writes the new visit's grants only, at a cost that does not grow with the resident's history;
a consent change rewrites the affected windows set-wise. Either way the rows left are exactly a full
re-derivation's (`permissions_check` judges)."""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.models import ProvisionRecord
from cases.models import Case, Consent, LegalBasisGrant, Referral, Visit
from cases.models.audited import seed_create
from cases.models.consent import Decision, Grantor, Method
from cases.models.referrals import ReferralStatus
from permissions.grants import grants_check, grants_sync_residents
from permissions.models import NoteGroupObjectPermission, VisitGroupObjectPermission


def _history(world, visits: int) -> None:
    """`visits` earlier visits on Mr Tanaka's case (set up as seed rows: nobody wrote them now), with their
    grants as a full derivation writes them."""
    now = timezone.now()
    seed_create(Visit, [
        Visit(case=world.tanaka_case, recorded_by=world.users["commissioner_a"], organization=world.council,
              client_id=uuid.uuid4(), occurred_at=now - datetime.timedelta(days=day + 1), uploaded_at=now,
              channel="home_visit", outcome="met")
        for day in range(visits)
    ])
    grants_sync_residents(resident_ids=[world.tanaka.id])


def _upload(world, client, **overrides):
    body = {"case": world.tanaka_case.id, "client_id": str(uuid.uuid4()),
            "occurred_at": (timezone.now() - datetime.timedelta(minutes=30)).isoformat(),
            "channel": "home_visit", "outcome": "met", **overrides}
    return client.post("/api/v1/visits", body, format="json")


def _upload_queries(world, client_for, visits: int, **overrides) -> int:
    _history(world, visits)
    client = client_for("commissioner_a")
    assert _upload(world, client, **overrides).status_code == 201  # warm: the token's first use, caches
    with CaptureQueriesContext(connection) as queries:
        assert _upload(world, client, **overrides).status_code == 201
    assert grants_check() == []
    return len(queries)


def _a_referral_and_a_break_glass(world):
    """Grants of every kind a visit can inherit: consent (the world's), a working referral, a legal basis."""
    now = timezone.now()
    Referral.objects.create(case=world.tanaka_case, sender_organization=world.care_centre,
                            sender_user=world.users["care_worker"], receiver_organization=world.npo,
                            reason="評価の依頼", categories=["basic", "living_situation"],
                            status=ReferralStatus.ACCEPTED, requested_at=now, response_due_at=now)
    Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic",
        "living_situation"], purposes=["referral"], valid_from=now - datetime.timedelta(days=1),
        method=Method.ORAL, taken_by=world.users["commissioner_a"], taken_by_organization=world.council,
    ).recipient_organizations.set([world.npo])
    LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.ward_section, basis="APPI27-1-2", categories=["living_situation"],
        starts_at=now - datetime.timedelta(hours=1), ends_at=now + datetime.timedelta(hours=23),
        requested_by=world.users["ward_caseworker"], approved_by=world.users["ward_supervisor"], status="active",
        justification="近隣から異臭の通報。", review_due_at=now + datetime.timedelta(days=7))
    grants_sync_residents(resident_ids=[world.tanaka.id])


@pytest.mark.parametrize("outcome", [{"outcome": "met"},
                                     {"outcome": "no_answer", "warning_signs": ["newspapers_piling"]}],
                         ids=["met", "raises-a-safety-check"])
def test_a_visit_upload_costs_the_same_queries_with_10x_the_history(world, client_for, outcome):
    _a_referral_and_a_break_glass(world)
    few = _upload_queries(world, client_for, 3, **outcome)
    many = _upload_queries(world, client_for, 30 - 3 - 2, **outcome)  # 30 visits before the measured one

    assert Visit.objects.filter(case=world.tanaka_case).count() == 3 + 2 + 25 + 2
    assert few == many


def test_the_upload_query_count_is_pinned(world, client_for, django_assert_num_queries):
    _a_referral_and_a_break_glass(world)
    _history(world, 40)
    client = client_for("commissioner_a")
    assert _upload(world, client).status_code == 201
    # COPY (PostgreSQL's insert of new grant rows) goes around Django's query log: one statement fewer seen.
    with django_assert_num_queries(UPLOAD_QUERIES - (connection.vendor == "postgresql")):
        assert _upload(world, client).status_code == 201
    assert grants_check() == []


# The whole request: who is asking (the token with its memberships, one query), idempotency, the case,
# the visit, the case's next visit moved with its change entry (the row read and locked, the entry written),
# its grants and provisions, the access log. The grants' share is fixed, 15 and a savepoint: the lock, the
# facts (9), the permission ids, the visit's stored rows, one insert, the provisions (2).
UPLOAD_QUERIES = 29


def test_the_new_visit_inherits_each_groups_visit_windows_and_records_their_provisions(world, client_for):
    _a_referral_and_a_break_glass(world)
    _history(world, 2)
    earlier = Visit.objects.filter(case=world.tanaka_case).order_by("id").first()
    response = _upload(world, client_for("commissioner_a"))
    new = Visit.objects.get(pk=response.json()["id"])

    def windows(visit):
        return set(VisitGroupObjectPermission.objects.filter(content_object=visit).values_list(
            "group_id", "permission_id", "valid_from", "valid_until", "basis"))

    assert windows(new) == windows(earlier)  # same author, same case: the very same windows
    bases = {basis.split(":")[0] for *_, basis in windows(new)}
    assert {"author", "consent", "referral", "APPI27-1-2"} <= bases
    recorded = set(ProvisionRecord.objects.filter(resident=world.tanaka, item="visit").values_list(
        "recipient_id", "basis"))
    assert {(world.npo.id, b) for *_, b in windows(new) if b.startswith("referral:")} <= recorded
    assert grants_check() == []


def test_a_withdrawal_rewrites_every_window_in_a_few_statements_per_table(world, client_for):
    _history(world, 60)
    consent = Consent.objects.get(resident=world.tanaka, decision=Decision.GRANTED)
    before = VisitGroupObjectPermission.objects.filter(basis=f"consent:{consent.id}").count()
    assert before == 60
    client = client_for("commissioner_a")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/residents/{world.tanaka.id}/consents/{consent.id}/withdraw",
                               {"grantor": "self"}, format="json")
    assert response.status_code == 200, response.content
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE")
               and "groupobjectpermission" in q["sql"]]
    assert 1 <= len(deletes) <= 5  # one per grant table with extra rows, never one per row
    withdrawn_at = Consent.objects.get(pk=consent.id).withdrawn_at
    ended = VisitGroupObjectPermission.objects.filter(basis=f"consent:{consent.id}")
    assert ended.count() == 60 and set(ended.values_list("valid_until", flat=True)) == {withdrawn_at}
    assert not NoteGroupObjectPermission.objects.filter(basis=f"consent:{consent.id}",
                                                        valid_until__gt=withdrawn_at).exists()
    assert grants_check() == []


def test_a_second_case_under_a_support_meeting_keeps_its_visits_apart(world, client_for):
    """A support meeting's grant opens the visits of the cases on its agenda only: a visit on another case
    of the resident must not inherit it."""
    from cases.models import MeetingMember, SupportMeeting

    now = timezone.now()
    other = Case.objects.create(resident=world.tanaka, concern="別件", lead_organization=world.council)
    meeting = SupportMeeting.objects.create(title="会議", held_at=now, ends_at=now + datetime.timedelta(hours=2),
                                            convened_by=world.ward_section)
    meeting.cases.set([world.tanaka_case])
    MeetingMember.objects.create(meeting=meeting, organization=world.npo, user=world.users["npo_worker"],
                                 confidentiality_acknowledged_at=now)
    LegalBasisGrant.objects.create(
        resident=world.tanaka, organization=world.ward_section, basis="SWA106-6", categories=["living_situation"],
        starts_at=now, ends_at=now + datetime.timedelta(hours=2), meeting=meeting, status="active",
        requested_by=world.users["ward_supervisor"], approved_by=world.users["ward_supervisor"],
        justification="支援会議", review_due_at=now + datetime.timedelta(days=7))
    grants_sync_residents(resident_ids=[world.tanaka.id])
    client = client_for("commissioner_a")
    on_agenda = Visit.objects.get(pk=_upload(world, client).json()["id"])
    off_agenda = Visit.objects.get(pk=_upload(world, client, case=other.id).json()["id"])

    assert VisitGroupObjectPermission.objects.filter(content_object=on_agenda, group=world.npo.group,
                                                     basis__startswith="SWA106-6:").exists()
    assert not VisitGroupObjectPermission.objects.filter(content_object=off_agenda,
                                                         basis__startswith="SWA106-6:").exists()
    assert grants_check() == []
