"""The seeding commands: the demo ward (idempotent, its accounts work, Sato finds Mr Tanaka, work is waiting)
and the city-scale data set (reproducible, consistent with the policy); neither ever runs under production
settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings
from rest_framework.test import APIClient

from api.models import ApiToken
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    District,
    DistrictAssignment,
    EscalationPolicy,
    Membership,
    Note,
    Organization,
    Referral,
    ReferralEvent,
    Resident,
    Task,
    User,
    Visit,
    Ward,
)
from demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, TANAKA
from notifications.models import Notification, OutboxMessage
from permissions.grants import grants_check
from permissions.models import CaseGroupObjectPermission, ResidentGroupObjectPermission, VisitGroupObjectPermission
from service_directory.models import Approval, Schedule, Service

COUNTED = (Ward, District, Organization, User, Membership, DistrictAssignment, Resident, Case, CaseTeamMember,
           Consent, Visit, Note, ApiToken, ResidentGroupObjectPermission, CaseGroupObjectPermission,
           VisitGroupObjectPermission, Referral, Task, OutboxMessage, Notification, Service, Schedule)
SCALE = ("seed_scale", "--residents", "300", "--seed", "7", "--years", "1")


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _client(username: str) -> APIClient:
    token = next(account.token for account in DEMO_ACCOUNTS if account.username == username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("command", [("seed_demo",), SCALE])
@pytest.mark.parametrize("overrides", [
    {"SETTINGS_MODULE": "backend.settings.production"},
    {"SETTINGS_MODULE": "backend.settings.base", "DEBUG": False},
])
def test_seeding_refuses_production_settings(command, overrides):
    before = _counts()
    with override_settings(**overrides), pytest.raises(CommandError, match="Refusing to seed"):
        _run(*command)
    assert _counts() == before


@pytest.mark.django_db
def test_seed_scale_is_reproducible_and_consistent_with_the_policy():
    def residents() -> list[tuple]:
        return list(Resident.objects.order_by("id").values_list("name_kanji", "name_kana", "date_of_birth", "town"))

    with transaction.atomic():
        output = _run(*SCALE)
        first, first_counts = residents(), _counts()
        assert grants_check() == []
        transaction.set_rollback(True)
    assert "cases_resident" in output and "elapsed" in output

    _run(*SCALE)
    assert residents() == first
    assert _counts() == first_counts
    city = Resident.objects.filter(district__code__startswith="city-")
    assert city.count() == 300
    assert not city.filter(cases__isnull=True).exists()
    assert Visit.objects.filter(case__resident__in=city).exists()
    with pytest.raises(CommandError, match="already"):
        _run(*SCALE)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    """The demo ward, seeded once for this module's tests and rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        _run("seed_demo", "--quiet")
        yield
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_seed_demo_again_refreshes_changes_nothing_and_prints_the_accounts(demo):
    before = _counts()
    output = _run("seed_demo")
    assert "refreshed" in output
    assert _counts() == before
    assert before["cases.Resident"] == 300
    assert grants_check() == []
    for account in DEMO_ACCOUNTS:
        assert account.username in output and account.token in output
    assert "curl" in output and "/api/v1/cases?overdue=true" in output


@pytest.mark.django_db
@pytest.mark.parametrize("account", DEMO_ACCOUNTS, ids=lambda account: account.username)
def test_demo_tokens_authenticate(demo, account):
    response = _client(account.username).get("/api/v1/me")
    assert response.status_code == 200
    assert response.json()["username"] == account.username


@pytest.mark.django_db
def test_sato_finds_mr_tanaka_and_takahashi_does_not(demo):
    tanaka = Resident.objects.get(name_kanji=TANAKA["name_kanji"], name_kana=TANAKA["name_kana"])

    def found(username: str) -> set[int]:
        response = _client(username).get("/api/v1/residents", {"name_kana": "たなか"})
        assert response.status_code == 200
        return {row["id"] for row in response.json()["results"]}

    assert tanaka.id in found("sato")
    assert tanaka.id not in found("takahashi")


def test_the_readme_lists_the_demo_tokens():
    readme = (Path(settings.BASE_DIR) / "README.md").read_text(encoding="utf-8")
    for account in DEMO_ACCOUNTS:
        assert f"`{account.username}`" in readme and account.token in readme


# --- the first morning: work waiting for the personas, made through the services ---------------------


def _get(username: str, path: str, **params) -> list[dict]:
    response = _client(username).get(f"/api/v1/{path}", params)
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _tanaka_case() -> Case:
    return Case.objects.get(resident__name_kanji=TANAKA["name_kanji"], resident__district__code=TANAKA["district"])


@pytest.mark.django_db
def test_the_care_centre_finds_the_urgent_safety_check_from_sato_s_visit(demo):
    case = _tanaka_case()
    visit = Visit.objects.get(case=case, recorded_by__username="sato", outcome="no_answer")

    queue = _get("care_worker", "tasks/queue")
    unread = _get("care_worker", "notifications", unread="true")

    check = next(task for task in queue if task["kind"] == "safety_check" and task["visit"] == visit.id)
    assert (check["status"], check["urgency"], check["case"]) == ("open", "urgent", case.id)
    assert Task.objects.get(pk=check["id"]).dedupe_key == f"visit:{visit.id}:safety_check"
    assert any((n["event"], n["subject_type"], n["subject_id"]) == ("task_assigned", "task", check["id"])
               for n in unread)


@pytest.mark.django_db
def test_the_ward_caseworker_has_the_care_centre_s_referral_waiting(demo):
    inbox = _get("ward_caseworker", "referrals/inbox")
    unread = _get("ward_caseworker", "notifications", unread="true")

    referral = next(r for r in inbox if r["case"] == _tanaka_case().id)
    assert referral["status"] == "requested"
    assert sorted(referral["categories"]) == ["basic", "living_situation"]
    assert list(ReferralEvent.objects.filter(referral_id=referral["id"]).order_by("id")
                .values_list("action", flat=True)) == ["create", "send"]
    assert Task.objects.filter(dedupe_key=f"referral:{referral['id']}:answer", status="open").exists()
    assert any(n["event"] == "referral_requested" and n["subject_id"] == referral["id"] for n in unread)


@pytest.mark.django_db
def test_sato_has_his_accepted_referral_unread_and_a_visit_to_make(demo):
    mine = _get("sato", "tasks/mine")
    unread = _get("sato", "notifications", unread="true")

    visit = next(task for task in mine if task["kind"] == "follow_up_visit")
    referral = Referral.objects.get(sender_user__username="sato")
    assert visit["status"] == "open" and visit["case"] == referral.case_id
    assert referral.status == "accepted"
    assert any(n["event"] == "referral_updated" and n["subject_id"] == referral.id for n in unread)
    assert any(n["event"] == "task_assigned" and n["subject_id"] == visit["id"] for n in unread)


@pytest.mark.django_db
def test_the_salon_npo_is_asked_for_a_follow_up_visit(demo):
    queue = _get("npo_worker", "tasks/queue")

    assert [(task["kind"], task["case"]) for task in queue] == [("follow_up_visit", _tanaka_case().id)]
    assert _get("npo_worker", "notifications", unread="true")


@pytest.mark.django_db
def test_every_outbox_message_is_delivered_and_the_grants_agree(demo):
    assert OutboxMessage.objects.filter(channel="in_app").exists()
    assert not OutboxMessage.objects.filter(channel="in_app", delivered_at__isnull=True).exists()
    assert Notification.objects.count() == OutboxMessage.objects.filter(channel="in_app").count()
    assert grants_check() == []


@pytest.mark.django_db
def test_org_admin_edits_escalation_policies_in_the_admin_and_nothing_else(demo):
    client = Client()
    # Through the admin's (throttled) login page: Client.login() calls authenticate() without a request.
    response = client.post("/admin/login/", {"username": "org_admin", "password": DEMO_PASSWORD, "next": "/admin/"})
    assert response.status_code == 302, response.content[:300]

    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/cases/escalationpolicy/").status_code == 200
    policy = EscalationPolicy.objects.order_by("id").first()
    assert client.get(f"/admin/cases/escalationpolicy/{policy.id}/change/").status_code == 200
    for hidden in ("/admin/cases/user/", "/admin/cases/membership/", "/admin/audit/"):
        assert client.get(hidden).status_code in (403, 404), hidden
    others = [a.username for a in DEMO_ACCOUNTS if a.username != "org_admin"]
    assert not User.objects.filter(username__in=others, is_staff=True).exists()


@pytest.mark.django_db
def test_the_demo_partner_reports_mr_tanaka_as_a_delivery_slip_writes_him(demo):
    """On the demo ward: the newspaper shop's report reaches his care centre as an urgent safety check."""
    from cases.models import PartnerReport, Resident, TaskKind
    from cases.services.partner_reports import partner_report_route

    tanaka = Resident.objects.get(name_kanji=TANAKA["name_kanji"], district__code=TANAKA["district"])
    slip = f"多摩区{tanaka.town}{tanaka.chome}-{tanaka.block_number} {tanaka.building} {tanaka.room}".translate(
        str.maketrans("0123456789-", "０１２３４５６７８９－"))
    response = _client("partner").post("/api/v1/partner-reports", {
        "agreement": "TAMA-2026-001", "reference": "demo-slip-1", "address": slip,
        "observed_at": "2026-11-30T07:30:00+09:00", "signals": ["newspapers_piling_up"]}, format="json")
    assert response.status_code == 202, response.content
    routing = partner_report_route(report_id=response.json()["id"])
    assert (routing.outcome, routing.task.kind, routing.task.resident, routing.task.assignee_organization.name) == (
        "matched", TaskKind.SAFETY_CHECK, tanaka, "登戸地域包括支援センター")
    assert PartnerReport.objects.get(pk=response.json()["id"]).state == "routed"


# The demo ward's directory of services: Tama Ward's kinds of activities in believable numbers, with schedules.

def total(**params) -> int:
    response = APIClient().get("/api/hsds/services", params)
    assert response.status_code == 200, response.content
    return response.json()["total_items"]


@pytest.mark.django_db
def test_the_demo_ward_lists_its_activities_with_schedules(demo):
    listed = Service.objects.filter(approval=Approval.APPROVED)
    assert 80 <= listed.count() <= 200
    assert not listed.filter(schedules__isnull=True).exists()
    assert Schedule.objects.filter(freq="MONTHLY").exists() and Schedule.objects.filter(freq="WEEKLY").exists()
    assert total(taxonomy_code="EL-SALON") >= 30
    assert total(taxonomy_code="CF-FOOD") == 12
    assert total(taxonomy_code="EL-PREV") == 20
    assert total(taxonomy_code="EL-CONSULT") >= 5
    assert total(search="さろん") == total(search="ｻﾛﾝ") >= 30
    assert total(search="さろん", district="tama-nb01") < total(search="さろん")
    assert total(language="vi") == 1
    assert Service.objects.filter(approval=Approval.PENDING).count() == 2
    flagged = APIClient().get("/api/hsds/services", {"per_page": 100, "taxonomy_code": "EL-SALON"}).json()
    assert any(service["not_recently_verified"] for service in flagged["contents"])
