"""Keeping the directory true: members propose and edit their organisation's listings, the ward section
approves, capacity, re-verification (the sweep's task, the flag, leaving the listing), and the metadata
change log."""

from __future__ import annotations

import datetime
import json

import pytest
from dateutil.relativedelta import relativedelta
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from cases.models import Task
from cases.models.escalations import TaskKind
from service_directory.models import Service
from service_directory.services import listing_assure, listings_reverification_sweep

pytestmark = pytest.mark.django_db
API = "/api/v1/directory/listings"


def public_names(**params) -> set[str]:
    return {s["name"] for s in APIClient().get("/api/hsds/services", params).json()["contents"]}


def post(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_a_proposed_listing_is_public_once_the_ward_section_approves_it(world, client_for):
    proposal = post(client_for("npo_worker"), API, {
        "name": "ふれあい体操", "name_kana": "ふれあいたいそう", "description": "椅子に座ってできる体操です。",
        "taxonomy_codes": ["CA-EXERCISE"], "district_ids": [world.district_a.id],
        "schedules": [{"freq": "WEEKLY", "byday": "TH", "opens_at": "13:30", "closes_at": "15:00"}]})
    assert proposal.status_code == 201, proposal.content
    listing = proposal.json()
    assert (listing["approval"], listing["organization_id"], listing["taxonomy_codes"]) == (
        "pending", world.npo.id, ["CA-EXERCISE"])
    assert "ふれあい体操" not in public_names()
    assert APIClient().get(f"/api/hsds/services/{listing['hsds_id']}").status_code == 404

    approved = post(client_for("ward_supervisor"), f"{API}/{listing['id']}/approve", {"decision": "approved"})
    assert approved.json()["approval"] == "approved"
    assert public_names(search="タイソウ", district=world.district_a.code) == {"ふれあい体操"}
    again = post(client_for("ward_supervisor"), f"{API}/{listing['id']}/approve", {"decision": "rejected"})
    assert (again.status_code, again.json()["code"]) == (409, "listing_already_decided")
    metadata = APIClient().get(f"/api/hsds/services/{listing['hsds_id']}").json()["metadata"]
    assert [(m["last_action_type"], m["updated_by"]) for m in metadata if m["field_name"] == "approval"] == [
        ("approve", world.ward_section.name)]


def test_an_edit_needs_the_version_read_and_is_searched_at_once(world, client_for):
    client = client_for("npo_worker")
    listing = post(client, API, {"name": "朝のラジオ体操", "description": "公園で体操します。",
                                 "taxonomy_codes": ["CA-EXERCISE"]}).json()
    path = f"{API}/{listing['id']}"
    assert client.patch(path, {"name": "朝のさんぽ会"}, format="json").status_code == 428
    stale = client.patch(path, {"name": "朝のさんぽ会"}, format="json", HTTP_IF_MATCH='"v99"')
    assert stale.status_code == 412
    edited = client.patch(path, {"name": "朝のさんぽ会", "minimum_age": 60}, format="json",
                          HTTP_IF_MATCH=f'"v{listing["version"]}"')
    assert edited.status_code == 200, edited.content
    assert (edited.json()["name"], edited["ETag"]) == ("朝のさんぽ会", f'"v{listing["version"] + 1}"')
    Service.objects.filter(id=listing["id"]).update(approval="approved")
    assert public_names(search="サンポ") == {"朝のさんぽ会"}
    assert public_names(search="ラジオ") == set()
    bad = client.patch(path, {"maximum_age": 50}, format="json", HTTP_IF_MATCH=edited["ETag"])
    assert (bad.status_code, bad.json()["code"]) == (400, "listing_age_range")


@pytest.mark.parametrize("body,code", [
    ({"taxonomy_codes": ["XX"]}, "taxonomy_term_unknown"),
    ({"schedules": [{"freq": "WEEKLY", "byday": "MONDAY", "opens_at": "10:00", "closes_at": "11:00"}]},
     "schedule_invalid"),
    ({"schedules": [{"freq": "WEEKLY", "byday": "MO", "opens_at": "12:00", "closes_at": "11:00"}]},
     "schedule_invalid"),
])
def test_a_proposal_with_bad_terms_or_schedules_is_refused(client_for, body, code):
    response = post(client_for("npo_worker"), API, {"name": "x", "description": "x", "taxonomy_codes": ["EL"],
                                                    **body})
    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not Service.objects.exists()


def test_the_sweep_asks_for_re_verification_then_the_listing_is_flagged_then_unlisted(directory, world):
    today = timezone.localdate()
    with override_settings(DIRECTORY_REVERIFY_AFTER_MONTHS=6, DIRECTORY_UNLIST_AFTER_MONTHS=9):
        assert listings_reverification_sweep(today=today) == 1  # the 7-month-old listing; the 10-month one is gone
        assert listings_reverification_sweep(today=today) == 0  # a re-run opens nothing new
        task = Task.objects.get(kind=TaskKind.REVERIFY_LISTING)
        assert (task.assignee_organization, task.dedupe_key) == (
            world.ward_section, f"listing:{directory.stale.id}:reverify:{directory.stale.assured_date.isoformat()}")
        stale = APIClient().get(f"/api/hsds/services/{directory.stale.uuid}").json()
        assert stale["not_recently_verified"] is True
        listing_assure(user=world.users["ward_caseworker"], listing_id=directory.stale.id)
        task.refresh_from_db()
        assert task.status == "completed"
        fresh = APIClient().get(f"/api/hsds/services/{directory.stale.uuid}").json()
        assert (fresh["not_recently_verified"], fresh["assured_date"]) == (False, today.isoformat())
        assert listings_reverification_sweep(today=today) == 0


def test_a_listing_not_re_verified_leaves_the_public_listing(directory):
    later = timezone.localdate() + relativedelta(months=3)
    from service_directory.selectors import services_public

    assert directory.stale in services_public(today=timezone.localdate())
    assert directory.stale not in services_public(today=later)
    assert directory.salon in services_public(today=later)


def test_the_sweep_runs_as_a_beat_task(directory):
    from django.conf import settings

    from service_directory.tasks import listings_reverification_sweep as task

    entry = settings.CELERY_BEAT_SCHEDULE["directory-reverification-sweep"]
    assert entry["task"] == task.name
    assert task.apply().get() == 1
    assert Task.objects.filter(kind=TaskKind.REVERIFY_LISTING).count() == 1
    assert datetime.date.today() - directory.stale.assured_date > datetime.timedelta(days=180)
