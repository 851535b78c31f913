"""The materialised grants agree with the policy, can be rebuilt, and a planted error is reported."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from cases.models import Membership
from permissions.grants import grants_check, grants_rebuild
from permissions.models import CaseGroupObjectPermission, ResidentGroupObjectPermission


def test_consistent_after_setup(world):
    assert grants_check() == []


def test_planted_extra_grant_is_reported_and_rebuild_removes_it(world):
    perm = Permission.objects.get(codename="view_resident")
    ResidentGroupObjectPermission.objects.create(
        content_object=world.tanaka, group=world.npo.group, permission=perm
    )
    problems = grants_check()
    assert any(f"resident {world.tanaka.id}: extra view_resident for group {world.npo.group_id}" in p for p in problems)
    with pytest.raises(CommandError):
        call_command("permissions_check")
    call_command("permissions_rebuild", verbosity=0)
    assert grants_check() == []


def test_planted_missing_grant_is_reported(world):
    CaseGroupObjectPermission.objects.filter(content_object=world.tanaka_case, group=world.care_centre.group).delete()
    problems = grants_check()
    assert any(f"case {world.tanaka_case.id}: missing view_case" in p for p in problems)
    grants_rebuild()
    assert grants_check() == []


def test_model_level_view_permission_is_reported(world):
    world.users["npo_worker"].user_permissions.add(Permission.objects.get(codename="view_resident"))
    assert any("model-level permission" in p for p in grants_check())


def test_term_end_stops_access_on_the_next_request_without_a_worker(world, client_for):
    client = client_for("commissioner_a")
    assert client.get(f"/api/v1/residents/{world.tanaka.id}").status_code == 200
    Membership.objects.filter(user=world.users["commissioner_a"]).update(
        valid_until=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get(f"/api/v1/residents/{world.tanaka.id}")
    assert response.status_code == 403
    assert response.json()["code"] == "no_active_membership"
