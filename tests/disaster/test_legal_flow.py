"""The evacuation-support list's legal flow (Disaster Countermeasures Basic Act Art. 49-11).

Before an event only consented residents' entries reach supporters (49-11-2); while a declared event lasts
every listed resident of its area does, without consent, each provision recorded under DCBA49-11-3 (49-11-3);
after closing nothing more, and every grant of the event has a review task. An exercise never uses the
no-consent basis. Read through the API, as supporters read it.
"""

from __future__ import annotations

import uuid

import pytest

from audit.models import ProvisionRecord
from cases.models import LegalBasisGrant, Task
from cases.models.escalations import TaskKind
from cases.services.disaster import disaster_event_close
from notifications.messages import email_subject
from notifications.models import OutboxMessage
from permissions.grants import grants_check
from tests.helpers import API, declare

pytestmark = pytest.mark.django_db
LIST_FIELDS = {"id", "resident", "name_kanji", "name_kana", "date_of_birth", "sex", "address", "phone", "reasons",
               "district", "source", "status", "updated_at"}


def seen(client_for, persona: str) -> set[int]:
    response = client_for(persona).get(f"{API}/evacuation-entries")
    assert response.status_code == 200
    return {row["resident"] for row in response.json()["results"]}


def test_before_an_event_only_consented_entries_reach_supporters(listed, client_for):
    w = listed.world
    assert seen(client_for, "npo_worker") == {w.tanaka.id}
    assert seen(client_for, "commissioner_a") == {w.tanaka.id}  # district A's, by consent naming the council
    assert seen(client_for, "commissioner_b") == set()  # Ms Suzuki did not consent
    assert seen(client_for, "care_worker") == set()  # not named
    assert seen(client_for, "ward_caseworker") == {w.tanaka.id, w.suzuki.id, listed.yamada.resident_id}
    for persona in ("partner", "privacy_officer", "expired_commissioner", "care_outsider"):
        assert client_for(persona).get(f"{API}/evacuation-entries").status_code in (200, 403)
        if client_for(persona).get(f"{API}/evacuation-entries").status_code == 200:
            assert seen(client_for, persona) == set()
    row = client_for("npo_worker").get(f"{API}/evacuation-entries/{listed.tanaka.id}").json()
    assert set(row) == LIST_FIELDS  # the list's fields, never the register's others
    assert client_for("npo_worker").get(f"{API}/evacuation-entries/{listed.suzuki.id}").status_code == 404
    assert ProvisionRecord.objects.filter(basis_code="consent", item="evacuation_list",
                                          resident=w.tanaka).count() == 2  # the council and the NPO


def test_during_an_event_every_listed_resident_of_the_area_reaches_supporters_with_the_basis(listed, client_for):
    w = listed.world
    event = declare(listed)
    everyone = {w.tanaka.id, w.suzuki.id, listed.yamada.resident_id}
    assert seen(client_for, "npo_worker") == everyone
    assert seen(client_for, "commissioner_a") == {w.tanaka.id, listed.yamada.resident_id}  # district A only
    assert seen(client_for, "commissioner_b") == {w.suzuki.id}
    assert seen(client_for, "care_worker") == set()  # not a supporter of the event
    # Recorded: one grant per supporter and resident, with the basis; provision-logged per recipient.
    grants = LegalBasisGrant.objects.filter(disaster_event=event)
    assert grants.count() == 3 * 2 and set(grants.values_list("basis", flat=True)) == {"DCBA49-11-3"}
    assert ProvisionRecord.objects.filter(basis_code="DCBA49-11-3", item="evacuation_list").count() == 3 * 2
    # The list's fields only: the resident's record, cases and notes stay closed.
    assert client_for("npo_worker").get(f"{API}/residents/{w.suzuki.id}").status_code == 404
    assert not ProvisionRecord.objects.filter(basis_code="DCBA49-11-3").exclude(item="evacuation_list").exists()
    assert client_for("npo_worker").get(f"{API}/evacuation-entries/{listed.suzuki.id}/plans").status_code == 404
    # The plan-less access log names the basis the entry was read through.
    from audit.models import AccessLogEntry

    logged = AccessLogEntry.objects.filter(kind="evacuation_entry", resident_id=w.suzuki.id,
                                           username="npo_worker").first()
    assert logged is not None and any(b.startswith("DCBA49-11-3:") for b in logged.bases)
    assert grants_check() == []


def test_after_closing_nothing_reaches_supporters_and_every_grant_has_a_review_task(listed, client_for):
    w = listed.world
    event = declare(listed)
    disaster_event_close(actor=w.users["ward_supervisor"], event=event)
    assert seen(client_for, "npo_worker") == {w.tanaka.id}  # consent only, again
    assert seen(client_for, "commissioner_b") == set()
    grant_ids = set(LegalBasisGrant.objects.filter(disaster_event=event).values_list("id", flat=True))
    reviews = Task.objects.filter(kind=TaskKind.REVIEW_GRANT, legal_basis_grant_id__in=grant_ids)
    assert set(reviews.values_list("legal_basis_grant_id", flat=True)) == grant_ids
    assert set(reviews.values_list("assignee_organization_id", flat=True)) == {w.ward_section.id}
    # The privacy officer sees them in the task list (reviews of the ward).
    officer = client_for("privacy_officer")
    assert all(officer.get(f"{API}/tasks/{task_id}").status_code == 200
               for task_id in reviews.values_list("id", flat=True))
    assert grants_check() == []
    assert OutboxMessage.objects.filter(event="disaster_closed", subject_id=event.id).exists()


def test_an_exercise_shares_only_consented_residents_and_says_so(listed, client_for):
    w = listed.world
    event = declare(listed, exercise=True)
    assert event.mark == "【訓練】"
    assert not LegalBasisGrant.objects.filter(disaster_event=event).exists()
    assert seen(client_for, "npo_worker") == {w.tanaka.id}
    assert seen(client_for, "commissioner_b") == set()
    checks = Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK)
    assert set(checks.values_list("resident_id", flat=True)) == {w.tanaka.id}
    events = set(OutboxMessage.objects.filter(subject_type="disaster_event", subject_id=event.id)
                 .values_list("event", flat=True))
    assert events == {"exercise_declared", "exercise_checks_assigned"}
    for code in events:
        assert "【訓練】" in email_subject(event=code, subject_type="disaster_event", subject_id=event.id)
    csv = client_for("npo_worker").get(f"{API}/disaster-events/{event.id}/export/csv")
    assert csv.status_code == 200 and "【訓練】" in csv.content.decode("utf-8-sig").splitlines()[0]


def test_declaring_creates_one_check_per_listed_resident_and_a_retry_creates_none_twice(listed):
    w = listed.world
    client_id = uuid.uuid4()
    event = declare(listed, client_id=client_id)
    checks = Task.objects.filter(disaster_event=event, kind=TaskKind.DISASTER_CHECK)
    assert checks.count() == 3
    # Prioritised by need: bedridden Mr Yamada first; assigned to the district's commissioner (the council).
    yamada = checks.get(resident_id=listed.yamada.resident_id)
    assert yamada.urgency == "emergency" and yamada.assignee_organization_id == w.council.id
    assert yamada.assignee_user_id == w.users["commissioner_a"].id and yamada.next_escalation_at == yamada.due_at
    again = declare(listed, client_id=client_id)  # the same declaration retried, campaign run again
    assert again.id == event.id
    from cases.models import DisasterEvent
    from cases.services.disaster import disaster_campaign_step

    DisasterEvent.objects.filter(pk=event.id).update(checks_cursor=0, checks_opened_at=None)  # as if lost
    while disaster_campaign_step(event_id=event.id):
        pass
    assert checks.count() == 3 and LegalBasisGrant.objects.filter(disaster_event=event).count() == 6
