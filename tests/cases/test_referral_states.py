"""The referral state machine, transition by transition: every state × every action × every party.

The expected table is written out here from the FHIR / Gravity closed-loop
referral Task (the sender owns the request, the receiver owns the work), not
imported from the service, so one can be checked against the other.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from cases.errors import Conflict, NotFound, NotPermitted, RuleViolation
from cases.models import CaseTeamMember, Consent, Referral, ReferralEvent
from cases.models.choices import OrganizationKind, Role
from cases.models.consent import Decision, Grantor, Method
from cases.models.referrals import ReferralStatus
from cases.services.referrals import TRANSITIONS, referral_create, referral_transition
from tests.factories import CaseFactory, MembershipFactory, OrganizationFactory, ResidentFactory, UserFactory

pytestmark = pytest.mark.django_db

# state, action → new state, party. Everything else is forbidden.
ALLOWED = """
draft            send            requested         sender
draft            cancel          cancelled         sender
draft            enter_in_error  entered-in-error  sender
requested        accept          accepted          receiver
requested        reject          rejected          receiver
requested        cancel          cancelled         sender
requested        enter_in_error  entered-in-error  sender
accepted         start           in-progress       receiver
accepted         hold            on-hold           receiver
accepted         fail            failed            receiver
accepted         cancel          cancelled         sender
accepted         enter_in_error  entered-in-error  sender
in-progress      hold            on-hold           receiver
in-progress      complete        completed         receiver
in-progress      fail            failed            receiver
in-progress      cancel          cancelled         sender
in-progress      enter_in_error  entered-in-error  sender
on-hold          resume          in-progress       receiver
on-hold          fail            failed            receiver
on-hold          cancel          cancelled         sender
on-hold          enter_in_error  entered-in-error  sender
rejected         enter_in_error  entered-in-error  sender
completed        enter_in_error  entered-in-error  sender
failed           enter_in_error  entered-in-error  sender
cancelled        enter_in_error  entered-in-error  sender
"""
EXPECTED = {(s, a): (t, p) for s, a, t, p in (line.split() for line in ALLOWED.strip().splitlines())}
STATES = [s.value for s in ReferralStatus]
ACTIONS = ["send", "cancel", "enter_in_error", "accept", "reject", "start", "hold", "resume", "complete", "fail"]
PARTY_OF_ACTION = {a: p for (_, a), (_, p) in EXPECTED.items()}
REASON_REQUIRED = {"rejected", "cancelled", "on-hold", "failed"}


def test_the_service_table_is_the_expected_table():
    assert {(str(s), a): (str(t), p) for (s, a), (t, p) in TRANSITIONS.items()} == EXPECTED
    assert set(PARTY_OF_ACTION) == set(ACTIONS)


@pytest.fixture(scope="module")
def parties(django_db_setup, django_db_blocker):
    """A care centre (sender) refers a case to a ward section (receiver); an NPO looks on.

    Built once for the module's ~300 tests inside a transaction rolled back at the end; each test
    runs in a savepoint inside it (pytest-django), so every test starts from the same rows.
    """
    with django_db_blocker.unblock(), transaction.atomic():
        yield _parties()
        transaction.set_rollback(True)


def _parties():
    sender_org = OrganizationFactory(kind=OrganizationKind.CARE_CENTRE, name="送り手センター")
    receiver_org = OrganizationFactory(kind=OrganizationKind.WARD_SECTION, name="受け手課")
    npo = OrganizationFactory(kind=OrganizationKind.NPO, name="見物NPO")
    users = {}
    for name, org in (("sender", sender_org), ("receiver", receiver_org), ("outsider", npo)):
        users[name] = UserFactory(username=f"state-{name}")
        MembershipFactory(user=users[name], organization=org, role=Role.WORKER)
    resident = ResidentFactory()
    case = CaseFactory(resident=resident, lead_organization=sender_org, team=[sender_org])
    Consent.objects.create(
        resident=resident, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic", "health"],
        purposes=["referral"], valid_from=timezone.now() - datetime.timedelta(days=1), method=Method.ORAL,
        taken_by=users["sender"], taken_by_organization=sender_org,
    ).recipient_organizations.set([receiver_org])

    def referral_in(state: str) -> Referral:
        sent = state != "draft"
        now = timezone.now()
        return Referral.objects.create(
            case=case, sender_organization=sender_org, sender_user=users["sender"], receiver_organization=receiver_org,
            reason="介護認定の相談", categories=["basic", "health"], status=state,
            requested_at=now if sent else None, response_due_at=now + datetime.timedelta(days=7) if sent else None,
        )

    return users, referral_in


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("actor", ["sender", "receiver", "outsider"])
def test_transition(parties, state, action, actor):
    users, referral_in = parties
    referral = referral_in(state)
    allowed = EXPECTED.get((state, action))
    call = {"actor": users[actor], "referral_id": referral.id, "action": action, "reason": "理由を記入"}

    if actor == "outsider" or (actor == "receiver" and state == "draft"):
        # Not a party (a draft is the sender's own): the referral does not exist for them.
        with pytest.raises(NotFound):
            referral_transition(**call)
    elif actor != PARTY_OF_ACTION[action]:
        with pytest.raises(NotPermitted) as refused:
            referral_transition(**call)
        assert refused.value.code == "referral_wrong_party"
    elif allowed is None:
        with pytest.raises(Conflict) as refused:
            referral_transition(**call)
        assert refused.value.code == "referral_transition_invalid"
    else:
        result = referral_transition(**call)
        assert result.status == allowed[0]
        event = ReferralEvent.objects.get(referral=referral)
        assert (event.action, event.from_status, event.to_status, event.actor_id) == (
            action, state, allowed[0], users[actor].id)
        return
    referral.refresh_from_db()
    assert referral.status == state
    assert not ReferralEvent.objects.filter(referral=referral).exists()


@pytest.mark.parametrize("state, action", [(s, a) for (s, a), (t, _) in EXPECTED.items() if t in REASON_REQUIRED])
def test_a_reason_is_required_to_reject_cancel_hold_or_fail(parties, state, action):
    users, referral_in = parties
    referral = referral_in(state)
    actor = users[PARTY_OF_ACTION[action]]
    with pytest.raises(RuleViolation) as refused:
        referral_transition(actor=actor, referral_id=referral.id, action=action, reason="  ")
    assert refused.value.code == "referral_reason_required"
    referral.refresh_from_db()
    assert referral.status == state


def test_accepting_adds_the_receiver_to_the_team_and_closing_takes_it_off(parties):
    users, referral_in = parties
    referral = referral_in("requested")
    team = CaseTeamMember.objects.filter(case=referral.case, organization=referral.receiver_organization)
    referral_transition(actor=users["receiver"], referral_id=referral.id, action="accept")
    assert team.exists()
    referral_transition(actor=users["receiver"], referral_id=referral.id, action="start")
    referral_transition(actor=users["receiver"], referral_id=referral.id, action="complete")
    assert not team.exists()
    assert list(ReferralEvent.objects.filter(referral=referral).order_by("id").values_list("to_status", flat=True)) \
        == ["accepted", "in-progress", "completed"]


def test_an_unknown_action_names_the_rule(parties):
    users, referral_in = parties
    referral = referral_in("draft")
    with pytest.raises(RuleViolation) as refused:
        referral_transition(actor=users["sender"], referral_id=referral.id, action="explode", reason="理由")
    assert (refused.value.code, refused.value.field) == ("referral_action_unknown", "action")


@pytest.mark.parametrize("categories", [[], ["basic", "gossip"]])
def test_unknown_or_no_categories_name_the_rule(parties, categories):
    users, referral_in = parties
    referral = referral_in("draft")
    with pytest.raises(RuleViolation) as refused:
        referral_create(actor=users["sender"], case=referral.case, receiver_organization=referral.receiver_organization,
                        reason="理由", categories=categories)
    assert (refused.value.code, refused.value.field) == ("categories_invalid", "categories")
