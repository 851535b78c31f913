"""Records about Mr Tanaka for the audit tests, on top of the suite's `world` (tests/conftest.py).

- notes by commissioner Sato (health, finances) and a visit by her;
- a break-glass (APPI27-1-2) grant for the ward section about Mrs Suzuki;
- a support meeting about Mr Tanaka's case with the care-centre supervisor;
- a disclosure request from Mr Tanaka, and a legal hold on his case.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from audit.chain import access_log_seal
from audit.legal_holds import legal_hold_place
from audit.models import AccessLogEntry, IdentityCheck, LegalHold, RightsKind, RightsRequest
from audit.rights import rights_request_receive
from cases import services
from cases.models import LegalBasisGrant, Note, SupportMeeting, Visit
from cases.models.visits import Channel, Outcome


@dataclass
class Records:
    health_note: Note
    finance_note: Note
    visit: Visit
    grant: LegalBasisGrant
    meeting: SupportMeeting
    rights_request: RightsRequest
    hold: LegalHold


@pytest.fixture
def records(world) -> Records:
    users = world.users
    sato = users["commissioner_a"]
    health = services.note_write(actor=sato, resident=world.tanaka, category="health", body="血圧が高め",
                                 case=world.tanaka_case)
    health = services.note_amend(actor=sato, note=health, body="血圧が高め。通院中。")
    finance = services.note_write(actor=sato, resident=world.tanaka, category="finances", body="年金のみ",
                                  case=world.tanaka_case)
    visit = services.visit_record(
        actor=sato, case=world.tanaka_case, client_id=uuid.uuid4(),
        occurred_at=timezone.now() - datetime.timedelta(hours=1), channel=Channel.HOME_VISIT,
        outcome=Outcome.NO_ANSWER, warning_signs=["newspapers_piling"], note="新聞が溜まっている",
    ).visit
    grant = services.legal_basis_grant_request(
        actor=users["ward_supervisor"], resident_id=world.suzuki.id, basis="APPI27-1-2", categories=["basic", "health"],
        justification="近隣から異臭の通報。安否確認のため。", duration=datetime.timedelta(hours=72),
    )
    now = timezone.now()
    meeting = services.meeting_convene(
        actor=users["care_supervisor"], title="個別ケース会議", held_at=now, ends_at=now + datetime.timedelta(days=1),
        cases=[world.tanaka_case], members=[users["ward_caseworker"]],
    )
    officer = users["privacy_officer"]
    request = rights_request_receive(actor=officer, resident=world.tanaka, kind=RightsKind.DISCLOSURE,
                                     identity_check=IdentityCheck.PHOTO_ID_IN_PERSON)
    hold = legal_hold_place(actor=officer, case=world.tanaka_case, reason="苦情申立てに関する保存のため")
    return Records(health, finance, visit, grant, meeting, request, hold)


def npo_on_team(world) -> None:
    """The NPO that runs Mr Tanaka's salon joins his case team (it sees only what consent gives it)."""
    case = world.tanaka_case
    case.refresh_from_db()
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version, team=[world.npo])


def entries_of(response, **filters):
    """The access-log entries the request wrote (by its X-Request-ID)."""
    return AccessLogEntry.objects.filter(request_id=response["X-Request-ID"], **filters).order_by("id")


@pytest.fixture
def sealed():
    return access_log_seal
