"""The seeding commands: the demo ward (idempotent, its accounts work, the story holds) and the city-scale data set
(reproducible, consistent with the policy); neither ever runs under production settings."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from api.models import ApiToken
from cases.models import (
    Case,
    CaseTeamMember,
    Consent,
    District,
    DistrictAssignment,
    Membership,
    Note,
    Organization,
    Resident,
    User,
    Visit,
    Ward,
)
from demo.seed import DEMO_ACCOUNTS, TANAKA
from permissions.grants import grants_check
from permissions.models import CaseGroupObjectPermission, ResidentGroupObjectPermission, VisitGroupObjectPermission

COUNTED = (Ward, District, Organization, User, Membership, DistrictAssignment, Resident, Case, CaseTeamMember,
           Consent, Visit, Note, ApiToken, ResidentGroupObjectPermission, CaseGroupObjectPermission,
           VisitGroupObjectPermission)
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
