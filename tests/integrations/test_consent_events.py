"""Events no person is told of: consent changed for a resident an organisation holds (recorded, withdrawn,
a period starting or ending by itself), a partner's report routed; and webhook heartbeats.

Who gets a consent event: each organisation that held the resident just before the change or holds them
after it, once per change; an organisation that never held the resident gets nothing. The sequence stays
gap-free, and heartbeats take no number of it."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from cases import services
from cases.models import CaseTeamMember
from cases.models.consent import Decision, Grantor, Method
from integrations.delivery import endpoints_deliver
from integrations.events import NewEvent, consent_boundaries_announce, events_record
from integrations.heartbeat import heartbeats_send
from integrations.models import Event, EventType, WebhookDelivery
from integrations.selectors import events_after
from permissions.access import organizations_holding
from permissions.grants import grants_sync_residents
from tests.helpers import LOOPBACK, endpoint, report

CONSENT = EventType.CONSENT_CHANGED


def consent_events(world) -> dict[int, list[tuple[str, int]]]:
    """Per organisation: (key without the organisation, subject id) of its consent events, in sequence order."""
    found: dict[int, list[tuple[str, int]]] = {}
    for event in Event.objects.filter(type=CONSENT).order_by("organization_id", "sequence"):
        assert event.subject_type == "resident"
        found.setdefault(event.organization_id, []).append((event.key.rsplit(":o", 1)[0], event.subject_id))
    return found


def assert_gap_free(organization_ids):
    for organization_id in organization_ids:
        sequences = list(Event.objects.filter(organization_id=organization_id).order_by("sequence")
                         .values_list("sequence", flat=True))
        assert sequences == list(range(1, len(sequences) + 1)), organization_id


@pytest.fixture
def on_the_team(world):
    """The second care centre joins Mr Tanaka's case team: it holds him only once consent covers it."""
    CaseTeamMember.objects.create(case=world.tanaka_case, organization=world.care_centre_2)
    grants_sync_residents(resident_ids=[world.tanaka.id])
    return world.care_centre_2


def record(world, *, recipient, **extra):
    return services.consent_record(
        actor=world.users["care_worker"], resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF,
        recipient_organizations=[recipient], categories=["basic"], purposes=["watch_over"], method=Method.ORAL,
        **extra)


def test_recorded_and_withdrawn_consent_tells_each_holder_before_or_after_once(world, on_the_team):
    holders_before = organizations_holding(resident_id=world.tanaka.id)
    assert world.care_centre_2.id not in holders_before
    assert {world.council.id, world.care_centre.id} <= holders_before

    consent = record(world, recipient=world.care_centre_2)
    assert world.care_centre_2.id in organizations_holding(resident_id=world.tanaka.id)
    told = consent_events(world)
    # The new holder (after) and those that held him already (before): one event each.
    assert set(told) == holders_before | {world.care_centre_2.id}
    assert all(events == [(f"consent:{consent.id}:recorded", world.tanaka.id)] for events in told.values())

    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor=Grantor.SELF)
    assert world.care_centre_2.id not in organizations_holding(resident_id=world.tanaka.id)
    told = consent_events(world)
    # The organisation that lost him is told too (it held him before the withdrawal).
    assert told[world.care_centre_2.id] == [(f"consent:{consent.id}:recorded", world.tanaka.id),
                                            (f"consent:{consent.id}:withdrawn", world.tanaka.id)]
    assert all(len(events) == 2 for events in told.values())
    # Never held Mr Tanaka: nothing, for either change.
    for stranger in (world.npo, world.ward_section, world.partner_business):
        assert stranger.id not in told
    # Withdrawing again changes nothing and announces nothing.
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor=Grantor.SELF)
    assert consent_events(world) == told
    assert_gap_free(told)


def test_a_consent_for_an_organisation_that_cannot_hold_him_tells_it_nothing(world):
    """The NPO is on no team of his: a watch-over consent naming it opens nothing, so it is not told."""
    record(world, recipient=world.npo)
    assert world.npo.id not in organizations_holding(resident_id=world.tanaka.id)
    assert world.npo.id not in consent_events(world)
    assert world.care_centre.id in consent_events(world)


def test_a_period_that_starts_or_ends_by_itself_is_announced_by_the_sweep_once(world, on_the_team):
    now = timezone.now()
    consent_boundaries_announce(now=now)  # the first run looks back a day: nothing to announce yet
    events_record(events=[NewEvent(world.care_centre.id, "test:before", "task.assigned", "task", 1)])
    dated = record(world, recipient=world.care_centre_2, valid_from=now + datetime.timedelta(hours=1),
                   valid_until=now + datetime.timedelta(hours=3))
    recorded = consent_events(world)
    assert world.care_centre_2.id not in recorded  # recorded now, opens nothing until it starts

    with time_machine.travel(now + datetime.timedelta(hours=2), tick=False):
        assert world.care_centre_2.id in organizations_holding(resident_id=world.tanaka.id)
        assert consent_boundaries_announce() == 1
        assert consent_boundaries_announce() == 0  # run twice: nothing more
    started = consent_events(world)
    assert started[world.care_centre_2.id] == [(f"consent:{dated.id}:started", world.tanaka.id)]

    with time_machine.travel(now + datetime.timedelta(hours=4), tick=False):
        assert world.care_centre_2.id not in organizations_holding(resident_id=world.tanaka.id)
        assert consent_boundaries_announce() == 1
    ended = consent_events(world)
    assert ended[world.care_centre_2.id][-1] == (f"consent:{dated.id}:ended", world.tanaka.id)
    assert all(events.count((f"consent:{dated.id}:ended", world.tanaka.id)) == 1 for events in ended.values())
    assert world.npo.id not in ended
    assert_gap_free(ended)


def test_a_withdrawn_consent_has_no_end_to_announce(world, on_the_team):
    now = timezone.now()
    consent_boundaries_announce(now=now)
    consent = record(world, recipient=world.care_centre_2, valid_until=now + datetime.timedelta(hours=1))
    services.consent_withdraw(actor=world.users["care_worker"], resident=world.tanaka, consent_id=consent.id,
                              grantor=Grantor.SELF)
    with time_machine.travel(now + datetime.timedelta(hours=2), tick=False):
        assert consent_boundaries_announce() == 0
    assert {key for events in consent_events(world).values() for key, _ in events} == {
        f"consent:{consent.id}:recorded", f"consent:{consent.id}:withdrawn"}


def test_a_routed_report_tells_the_partner_its_id_only(world, agreement, tanaka_at_home, client_for):  # noqa: F811
    from cases.services.partner_reports import partner_report_route

    report_id = report(client_for("partner"), "登戸1-2-15 コーポ登戸101", "slip-ev").json()["id"]
    assert not Event.objects.filter(type=EventType.PARTNER_REPORT_ROUTED).exists()  # received, not yet routed
    partner_report_route(report_id=report_id)
    partner_report_route(report_id=report_id)  # routed once: told once
    told = list(Event.objects.filter(type=EventType.PARTNER_REPORT_ROUTED).values_list(
        "organization_id", "subject_type", "subject_id"))
    assert told == [(world.partner_business.id, "partner_report", report_id)]


def test_consent_events_go_out_as_thin_webhooks_to_subscribers_only(world, on_the_team, receiver):  # noqa: F811
    from tests.factories import MembershipFactory, UserFactory

    admin_2 = UserFactory(username="care2_admin_hooks")
    MembershipFactory(user=admin_2, organization=world.care_centre_2, role="org_admin")
    endpoint(admin_2, receiver, "/consent", types=("consent.changed",))
    endpoint(admin_2, receiver, "/tasks", types=("task.assigned",))
    consent = record(world, recipient=world.care_centre_2)
    with LOOPBACK:
        endpoints_deliver(endpoint_ids=list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)))
    assert receiver.ids("/tasks") == []
    [sent] = [r.body for r in receiver.received if r.path == "/consent"]
    assert sent["type"] == "consent.changed" and sent["organization"] == world.care_centre_2.id
    assert sent["data"] == {"subject_type": "resident", "subject_id": world.tanaka.id,
                            "link": f"/api/v1/residents/{world.tanaka.id}"}
    assert set(sent) == {"id", "type", "timestamp", "organization", "sequence", "data"}
    assert consent.id  # the consent's own id is in no payload: the receiver reads what it may now see


# --- Heartbeats ------------------------------------------------------------------------------------

@override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
def test_an_idle_subscribed_endpoint_gets_a_signed_heartbeat_with_the_last_sequence(world, admin, receiver):  # noqa: F811
    beating = endpoint(admin, receiver, "/beat", types=("task.assigned", "heartbeat"))
    endpoint(admin, receiver, "/quiet", types=("task.assigned",))
    events_record(events=[NewEvent(world.care_centre_2.id, f"hb:{i}", "task.assigned", "task", i) for i in range(3)])
    assert heartbeats_send().sent == 0 and receiver.received == []  # events wait: they are the signal
    endpoints_deliver(endpoint_ids=[beating.id])
    assert heartbeats_send().sent == 1
    beats = [r for r in receiver.received if r.body["type"] == "heartbeat"]
    assert [r.path for r in beats] == ["/beat"]  # the endpoint that did not subscribe hears nothing
    [beat] = beats
    assert beat.body["last_sequence"] == 3 and beat.body["organization"] == world.care_centre_2.id
    assert beat.webhook_id.startswith(f"hb_{world.care_centre_2.id}_") and receiver.rejected == 0
    assert set(beat.body) == {"id", "type", "timestamp", "organization", "last_sequence"}
    # A heartbeat takes no number: the feed still ends at 3, and the next event is 4.
    assert events_after(organization_id=world.care_centre_2.id, after=0).last_sequence == 3
    [fourth] = events_record(events=[NewEvent(world.care_centre_2.id, "hb:next", "task.assigned", "task", 9)])
    assert fourth.sequence == 4


@override_settings(WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"])
def test_a_heartbeat_answered_410_disables_the_endpoint_and_a_failing_one_changes_nothing(world, admin, receiver):  # noqa: F811
    gone = endpoint(admin, receiver, "/gone", types=("task.assigned", "heartbeat"))
    failing = endpoint(admin, receiver, "/down", types=("task.assigned", "heartbeat"))
    receiver.statuses.update({"/gone": 410, "/down": 503})
    report_ = heartbeats_send()
    assert (report_.sent, report_.failed) == (0, 2)
    gone.refresh_from_db()
    failing.refresh_from_db()
    assert (gone.status, gone.disabled_reason) == ("disabled", "gone")
    assert (failing.status, failing.consecutive_failures, failing.next_attempt_at) == ("active", 0, None)
    assert failing.lease_until is None


def test_heartbeat_alone_is_not_a_subscription_but_beside_an_event_type_it_is(world, admin):  # noqa: F811
    from cases.errors import RuleViolation
    from integrations.webhooks import webhook_register

    with LOOPBACK, pytest.raises(RuleViolation):
        webhook_register(actor=admin, url="https://hooks.example.jp/x", event_types=["heartbeat"])
    made = webhook_register(actor=admin, url="https://hooks.example.jp/x", event_types=["heartbeat", "consent.changed"])
    assert made.event_types == ["consent.changed", "heartbeat"]


def test_no_consent_or_partner_event_body_header_or_log_row_carries_personal_data(
        world, on_the_team, agreement, tanaka_at_home, client_for, receiver):  # noqa: F811
    """As for the referral and task events (test_webhooks.py): a resident with a note, his consent given and
    withdrawn, a partner's report at his door routed; every body and header sent, every event, delivery and
    log row, and the heartbeat are free of his name, address, phone and note."""
    import json

    from cases.services.partner_reports import partner_report_route
    from integrations.models import WebhookAttempt, WebhookEndpoint
    from tests.factories import MembershipFactory, UserFactory

    tanaka = world.tanaka
    tanaka.phone = "044-987-6543"
    tanaka.save(update_fields=["phone"])
    note = services.note_write(actor=world.users["care_worker"], resident=tanaka, category="health",
                               body="夜間に転倒して右手首を痛めた", case=world.tanaka_case)
    for organization, path in ((world.care_centre_2, "/care2"), (world.partner_business, "/partner")):
        org_admin = UserFactory(username=f"scan_admin_{organization.id}")
        MembershipFactory(user=org_admin, organization=organization, role="org_admin")
        endpoint(org_admin, receiver, path, types=("consent.changed", "partner_report.routed", "heartbeat"))
    consent = record(world, recipient=world.care_centre_2)
    services.consent_withdraw(actor=world.users["care_worker"], resident=tanaka, consent_id=consent.id,
                              grantor=Grantor.SELF, note="本人の希望")
    partner_report_route(report_id=report(client_for("partner"), "登戸1-2-15 コーポ登戸101", "slip-scan").json()["id"])
    with LOOPBACK:
        endpoints_deliver(endpoint_ids=list(WebhookEndpoint.objects.values_list("id", flat=True)))
        heartbeats_send()
    assert sorted(r.body["type"] for r in receiver.received) == [
        "consent.changed", "consent.changed", "heartbeat", "heartbeat", "partner_report.routed"]
    secrets = [tanaka.name_kanji, tanaka.name_kana, "タナカ", "田中", tanaka.phone, "044-987", "コーポ登戸", "2-15",
               note.body, "転倒", "本人の希望", tanaka.postal_code]
    sent = [r.raw.decode() + json.dumps(r.headers, ensure_ascii=False) for r in receiver.received]
    logged = [json.dumps(list(model.objects.values()), default=str, ensure_ascii=False)
              for model in (Event, WebhookDelivery, WebhookAttempt, WebhookEndpoint)]
    for text in sent + logged:
        for secret in secrets:
            assert secret not in text, secret
