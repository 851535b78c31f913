"""A client generated from docs/openapi.yaml by an outside generator works against the running API.

openapi-python-client (pinned in requirements-dev.txt) generates a client from the committed schema
and the committed configuration (docs/openapi-python-client.yaml) into a temporary directory, with
every proxy pointed at a closed local port: the generator needs no network. It must print no warning
(a warning means part of the API is missing from the client). The client then talks to a live server
(pytest-django's live_server on 127.0.0.1) and its answers must decode into the typed models: the
detail records with their histories, the planned escalation steps, a batch's items and problems,
the disclosure as typed JSON and as PDF bytes, the ETag and Idempotent-Replayed headers.
"""

from __future__ import annotations

import datetime
import importlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import attrs
import pytest
from django.utils import timezone

from api.tokens import token_issue
from cases.models import Consent
from cases.models.consent import Decision, Grantor, Method
from tests.helpers import records  # noqa: F401 (the audit tests' records: a disclosure request, notes, ...)

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "mimamori_client"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, so any network use fails at once


@pytest.fixture(scope="module")
def mimamori_client(tmp_path_factory):
    """The generated package, imported from a temporary directory."""
    where = tmp_path_factory.mktemp("generated")
    bin_dir = str(Path(sys.executable).parent)  # the generator formats its output with this venv's ruff
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "HTTP_PROXY": CLOSED_PORT, "HTTPS_PROXY": CLOSED_PORT, "ALL_PROXY": CLOSED_PORT, "NO_PROXY": ""}
    run = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(ROOT / "docs" / "openapi.yaml"),
         "--config", str(ROOT / "docs" / "openapi-python-client.yaml"), "--meta", "none",
         "--output-path", str(where / PACKAGE)],
        env=env, cwd=where, capture_output=True, text=True, timeout=300, check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "warning" not in output.lower() and "not in path" not in output.lower(), output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def _module(package, name: str):
    return importlib.import_module(f"{package.__name__}.{name}")


def _client(package, live_server, user):
    _, token = token_issue(user=user, name="generated client")
    return package.AuthenticatedClient(base_url=live_server.url, token=token, raise_on_unexpected_status=True)


def _no_undeclared_fields(model) -> None:
    """Every key the server sent is a declared field of the model, all the way down."""
    assert model.additional_properties == {}, (type(model).__name__, model.additional_properties)
    for value in (getattr(model, field.name) for field in attrs.fields(type(model))):
        for item in value if isinstance(value, list) else [value]:
            if hasattr(item, "additional_properties"):
                _no_undeclared_fields(item)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_generated_client_reads_typed_answers(mimamori_client, live_server, world, records):  # noqa: F811
    assert live_server.url.startswith("http://127.0.0.1:")
    models = _module(mimamori_client, "models")
    care = _client(mimamori_client, live_server, world.users["care_worker"])

    # /me: memberships with their districts (a commissioner's), typed.
    sato = _client(mimamori_client, live_server, world.users["commissioner_a"])
    me = _module(mimamori_client, "api.me.me_retrieve").sync(client=sato)
    assert isinstance(me, models.Me)
    assert [d.code for m in me.memberships for d in m.districts] == ["A"]
    assert all(isinstance(d, models.DistrictRef) for m in me.memberships for d in m.districts)

    # A case by integer id, its team typed and its ETag in the headers.
    answer = _module(mimamori_client, "api.cases.cases_retrieve").sync_detailed(world.tanaka_case.id, client=care)
    case = answer.parsed
    assert isinstance(case, models.Case) and case.id == world.tanaka_case.id
    assert [org.name for org in case.team] == ["登戸地域包括支援センター"]
    assert all(isinstance(org, models.OrganizationRef) for org in case.team)
    assert answer.headers["ETag"] == f'"v{case.version}"'

    # A task: created, replayed by its Idempotency-Key, then read with its planned escalation steps.
    create_task = _module(mimamori_client, "api.tasks.tasks_create")
    body = models.TaskCreateRequest(
        case=world.tanaka_case.id, kind=models.TaskRequestKindEnum.SAFETY_CHECK,
        assignee_organization=world.care_centre.id, due_at=timezone.now() + datetime.timedelta(hours=2),
        urgency=models.UrgencyEnum.URGENT,
    )
    first = create_task.sync_detailed(client=care, body=body, idempotency_key="generated-task-1")
    again = create_task.sync_detailed(client=care, body=body, idempotency_key="generated-task-1")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true" and again.parsed.id == first.parsed.id
    task = _module(mimamori_client, "api.tasks.tasks_retrieve").sync(first.parsed.id, client=care)
    assert isinstance(task, models.TaskDetail) and task.escalations == []
    assert task.escalation_plan, "the default policy for an urgent safety check has steps"
    for level, step in enumerate(task.escalation_plan, start=1):
        assert isinstance(step, models.TaskEscalationPlanStep)
        assert step.level == level and step.state == models.EscalationPlanStateEnum.PENDING and step.fired_at is None
        assert isinstance(step.planned_at, datetime.datetime) and step.planned_at >= task.due_at
    assert [s.planned_at for s in task.escalation_plan] == sorted(s.planned_at for s in task.escalation_plan)

    # A referral and its history, typed.
    consent = Consent.objects.create(
        resident=world.tanaka, decision=Decision.GRANTED, grantor=Grantor.SELF, categories=["basic", "health"],
        purposes=["referral"], valid_from=timezone.now() - datetime.timedelta(days=1), method=Method.ORAL,
        taken_by=world.users["care_worker"], taken_by_organization=world.care_centre,
    )
    consent.recipient_organizations.set([world.ward_section])
    sent = _module(mimamori_client, "api.referrals.referrals_create").sync(
        client=care, body=models.ReferralCreateRequest(
            case=world.tanaka_case.id, receiver_organization=world.ward_section.id,
            reason="介護認定の申請について相談したい",
            categories=[models.CategoryEnum.BASIC, models.CategoryEnum.HEALTH],
        ))
    referral = _module(mimamori_client, "api.referrals.referrals_retrieve").sync(sent.id, client=care)
    assert isinstance(referral, models.ReferralDetail)
    assert [(e.action, e.to_status) for e in referral.events] == [
        ("create", models.ReferralStatusEnum.DRAFT), ("send", models.ReferralStatusEnum.REQUESTED)]
    assert isinstance(referral.events[0], models.ReferralEvent)

    # A day's batch: one visit stored, one refused with its problem, both typed.
    good = models.VisitCreateRequest(
        case=world.tanaka_case.id, client_id=uuid.uuid4(), occurred_at=timezone.now() - datetime.timedelta(hours=1),
        channel=models.ChannelEnum.HOME_VISIT, outcome=models.VisitOutcomeEnum.MET,
    )
    hidden = models.VisitCreateRequest(
        case=world.suzuki_case.id, client_id=uuid.uuid4(), occurred_at=timezone.now() - datetime.timedelta(hours=1),
        channel=models.ChannelEnum.HOME_VISIT, outcome=models.VisitOutcomeEnum.MET,
    )
    batch = _module(mimamori_client, "api.visits.visits_batch_create").sync(
        client=sato, body=models.VisitBatchRequest(items=[good, hidden]))
    stored, refused = batch.results
    assert stored.status == 201 and isinstance(stored.visit, models.Visit) and stored.problem is None
    assert refused.status == 404 and refused.visit is None and isinstance(refused.problem, models.Problem)
    assert refused.problem.code == "not_found"
    assert [(e.field, e.code) for e in refused.problem.errors] == [("case", "not_found")]
    assert refused.problem.errors[0].message

    # The disclosure: typed JSON with no undeclared field, and the PDF as bytes.
    officer = _client(mimamori_client, live_server, world.users["privacy_officer"])
    disclosure = _module(mimamori_client, "api.rights.rights_disclosure").sync(world.tanaka.id, client=officer)
    assert isinstance(disclosure, models.Disclosure)
    _no_undeclared_fields(disclosure)
    assert disclosure.resident.name_kanji == "田中 一郎" and disclosure.rights_request == records.rights_request.id
    assert isinstance(disclosure.resident.date_of_birth, datetime.date)
    # Where his data went: the care centre (through his consent) and, just now, the ward section (the referral).
    assert {p.recipient.name for p in disclosure.provisions} == {"登戸地域包括支援センター", "多摩区役所 高齢・障害課"}
    assert any(n.body == "血圧が高め。通院中。" and n.supersedes for n in disclosure.notes)
    pdf = _module(mimamori_client, "api.rights.rights_disclosure_pdf").sync_detailed(world.tanaka.id, client=officer)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.parsed.payload.read().startswith(b"%PDF")

    # Errors decode as Problem too (the client is told not to raise for documented statuses).
    missing = _module(mimamori_client, "api.rights.rights_disclosure_pdf").sync_detailed(world.tanaka.id, client=care)
    assert missing.status_code == 404 and isinstance(missing.parsed, models.Problem)
    assert missing.parsed.code == "not_found"
