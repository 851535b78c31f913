"""Retention: the access log is cut as a prefix with a checkpoint (verification still passes and still checks
entries kept under a legal hold), provisions go after three years, cases closed ten years ago are anonymised,
and a legal hold stops all of it for its case."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from audit.access_log import access_log_reads
from audit.chain import access_log_seal, access_log_verify
from audit.legal_holds import legal_hold_place
from audit.models import AccessLogCheckpoint, AccessLogEntry, Action, Anonymisation, ProvisionRecord, RetentionRun
from audit.retention import ANONYMISED, retention_run
from cases import services
from cases.models import Case, Note, Resident
from tests.factories import CaseFactory, ResidentFactory, UserFactory
from tests.helpers import fixture_update

YEARS_AGO = datetime.timedelta(days=4 * 365)


def _reads(resident_ids, when=None):
    with time_machine.travel(when or timezone.now(), tick=True):
        for resident_id in resident_ids:
            access_log_reads(kind="resident", resident_ids=[resident_id], categories=["basic"], basis="district")


def _old_world():
    """A resident with a held case and one without, registered four years ago (their entries open the chain)."""
    with time_machine.travel(timezone.now() - YEARS_AGO, tick=True):
        held = CaseFactory()
        free = ResidentFactory()
        legal_hold_place(actor=UserFactory(), case=held, reason="訴訟のため記録を保存する")
        _reads([free.id, held.resident_id, free.id])
    return held.resident, free


def test_old_entries_go_as_a_prefix_and_the_chain_still_verifies(db):
    held_resident, free = _old_world()
    _reads([free.id, free.id])
    access_log_seal()
    before = AccessLogEntry.objects.count()

    run = retention_run()

    checkpoint = AccessLogCheckpoint.objects.get()
    kept = AccessLogEntry.objects.filter(seq__lte=checkpoint.through_seq)
    assert run.entries_pruned > 0 and run.entries_retained == kept.count() >= 1
    assert set(kept.values_list("resident_id", flat=True)) == {held_resident.id}
    assert not AccessLogEntry.objects.filter(at__lt=run.log_cutoff).exclude(resident_id=held_resident.id).exists()
    assert AccessLogEntry.objects.filter(at__gte=run.log_cutoff).count() == 2
    assert AccessLogEntry.objects.count() == before - run.entries_pruned
    result = access_log_verify()
    assert result.ok, result.problems
    assert result.start_seq == checkpoint.through_seq + 1 and result.retained == kept.count()

    if connection.vendor == "postgresql":  # the kept entries are still checked one by one
        from tests.helpers import bypassing_the_trigger

        bypassing_the_trigger("UPDATE audit_accesslogentry SET username = 'x' WHERE id = %s", [kept.first().id])
        assert any("retained entry changed" in p for p in access_log_verify().problems)


def test_a_second_run_finds_nothing_new_and_appends_after_the_checkpoint(db):
    _, free = _old_world()
    retention_run()
    _reads([free.id])
    second = retention_run()
    assert second.entries_pruned == 0 and AccessLogCheckpoint.objects.count() == 1
    assert access_log_verify().ok


def test_provision_records_go_after_three_years(world, records):
    old = ProvisionRecord.objects.create(
        provided_at=timezone.now() - YEARS_AGO, recipient=world.npo, resident=world.suzuki, item="resident",
        category="basic", basis="consent:999", basis_code="consent")
    recent = ProvisionRecord.objects.filter(resident=world.tanaka).count()
    assert recent
    run = retention_run()
    assert run.provisions_purged == 1 and not ProvisionRecord.objects.filter(pk=old.pk).exists()
    assert ProvisionRecord.objects.filter(resident=world.tanaka).count() == recent


def _closed_long_ago(world, resident=None):
    resident = resident or ResidentFactory(district=world.district_a, registered_by=world.council,
                                           name_kanji="山田 太郎")
    case = CaseFactory(resident=resident, lead_organization=world.care_centre, team=[world.care_centre])
    note = services.note_write(actor=world.users["commissioner_a"], resident=resident, category="family",
                               body="長男とは疎遠", case=case)
    fixture_update(Case.objects.filter(pk=case.pk), status="closed",
                   closed_at=timezone.now() - datetime.timedelta(days=3660))
    return resident, case, note


def test_cases_closed_ten_years_ago_are_anonymised_and_logged(world):
    resident, case, note = _closed_long_ago(world)
    run = retention_run()
    assert run.cases_anonymised == 1 and run.residents_anonymised == 1
    case.refresh_from_db()
    resident.refresh_from_db()
    assert case.concern == ANONYMISED and Note.objects.get(pk=note.pk).body == ANONYMISED
    assert resident.name_kanji == "匿名" and resident.phone == "" and resident.date_of_birth.month == 1
    entries = AccessLogEntry.objects.filter(action=Action.ANONYMISE, resident_id=resident.id)
    assert set(entries.values_list("kind", flat=True)) == {"case", "resident"}
    assert "山田" not in str(list(entries.values_list("changes", flat=True)))
    assert retention_run().cases_anonymised == 0  # idempotent
    assert RetentionRun.objects.count() == 2


def test_a_resident_with_a_live_case_keeps_their_record(world):
    resident, case, _ = _closed_long_ago(world, resident=world.suzuki)
    retention_run()
    assert Anonymisation.objects.get(case=case).resident_anonymised is False
    assert Resident.objects.get(pk=world.suzuki.pk).name_kanji == "鈴木 花子"


def test_a_legal_hold_stops_anonymisation(world):
    resident, case, note = _closed_long_ago(world)
    hold = legal_hold_place(actor=world.users["privacy_officer"], case=case, reason="情報公開請求への対応のため")
    run = retention_run()
    assert run.cases_anonymised == 0 and run.held_cases == 1
    assert Note.objects.get(pk=note.pk).body == "長男とは疎遠"
    from audit.legal_holds import legal_hold_release

    legal_hold_release(actor=world.users["privacy_officer"], hold=hold)
    assert retention_run().cases_anonymised == 1


@pytest.mark.parametrize("persona", ["care_worker", "ward_supervisor", "npo_worker"])
def test_only_the_officer_places_holds(persona, world, client_for):
    response = client_for(persona).post("/api/v1/audit/legal-holds", {"case": world.tanaka_case.id,
                                                                       "reason": "保存が必要なため理由を記載"})
    assert response.status_code == 404


def test_the_officer_places_and_releases_a_hold(world, client_for):
    client = client_for("privacy_officer")
    created = client.post("/api/v1/audit/legal-holds", {"case": world.tanaka_case.id,
                                                         "reason": "訴訟対応のため保存する"}, HTTP_IDEMPOTENCY_KEY="h1")
    assert created.status_code == 201, created.content
    again = client.post("/api/v1/audit/legal-holds", {"case": world.tanaka_case.id, "reason": "訴訟対応のため保存する"})
    assert again.status_code == 409 and again.json()["code"] == "legal_hold_exists"
    missing = client.post("/api/v1/audit/legal-holds", {"case": 99999, "reason": "訴訟対応のため保存する"})
    assert missing.status_code == 404
    assert client.post("/api/v1/audit/legal-holds", {"case": world.tanaka_case.id, "reason": "短い"}).status_code == 400
    released = client.post(f"/api/v1/audit/legal-holds/{created.json()['id']}/release")
    assert released.status_code == 200 and released.json()["released_at"]
    assert client.post(f"/api/v1/audit/legal-holds/{created.json()['id']}/release").status_code == 409
