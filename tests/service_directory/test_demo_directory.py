"""The demo ward's directory: Tama Ward's kinds of activities in believable numbers, with schedules."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from service_directory.models import Approval, Schedule, Service
from tests.cases.test_seed import demo  # noqa: F401 - the seeded demo ward

pytestmark = pytest.mark.django_db


def total(**params) -> int:
    response = APIClient().get("/api/hsds/services", params)
    assert response.status_code == 200, response.content
    return response.json()["total_items"]


def test_the_demo_ward_lists_its_activities_with_schedules(demo):  # noqa: F811
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
