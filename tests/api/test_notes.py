"""Notes: written once, never changed in place; a correction is a new version pointing at the old one."""

from __future__ import annotations

import datetime

import time_machine
from django.utils import timezone

from cases import services
from cases.models import Note
from cases.models.choices import Role
from permissions.grants import grants_check
from tests.factories import CaseFactory, MembershipFactory, ResidentFactory, UserFactory
from tests.helpers import API


def write(client, world, **overrides):
    body = {"resident": world.tanaka.id, "case": world.tanaka_case.id, "category": "health",
            "body": "血圧が高め。服薬の確認が必要。", **overrides}
    return client.post(f"{API}/notes", body, format="json")


def amend(client, note_id: int, body: str):
    return client.post(f"{API}/notes/{note_id}/amend", {"body": body}, format="json")


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_a_commissioner_writes_a_note_about_a_resident_of_her_district(world, client_for):
    response = write(client_for("commissioner_a"), world)
    assert response.status_code == 201, response.content
    note = response.json()
    assert note["resident"] == world.tanaka.id and note["case"] == world.tanaka_case.id
    assert note["category"] == "health" and note["supersedes"] is None and note["superseded_by"] is None
    assert note["author"]["id"] == world.users["commissioner_a"].id
    assert note["author_organization"]["id"] == world.council.id
    stored = Note.objects.get(pk=note["id"])
    assert stored.body == "血圧が高め。服薬の確認が必要。"
    assert grants_check() == []


def test_amending_makes_a_new_version_and_the_old_row_never_changes(world, client_for):
    sato = client_for("commissioner_a")
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        first = write(sato, world, body="v1 血圧 150").json()
        clock.shift(datetime.timedelta(minutes=5))
        second = amend(sato, first["id"], "v2 血圧 150/95（訂正）")
        assert second.status_code == 201, second.content
        second = second.json()
        clock.shift(datetime.timedelta(minutes=5))
        third = amend(sato, second["id"], "v3 血圧 150/95、受診を勧めた").json()

    assert second["supersedes"] == first["id"] and third["supersedes"] == second["id"]
    assert (second["category"], second["resident"], second["case"]) == ("health", world.tanaka.id,
                                                                        world.tanaka_case.id)
    old = Note.objects.get(pk=first["id"])
    assert old.body == "v1 血圧 150"
    assert old.created_at == datetime.datetime.fromisoformat(first["created_at"])
    assert Note.objects.get(pk=second["id"]).body == "v2 血圧 150/95（訂正）"

    # The list shows only the current version; each old version points at its successor.
    for url in ("/notes", f"/notes?resident={world.tanaka.id}", "/notes?category=health"):
        assert ids(sato.get(f"{API}{url}")) == [third["id"]], url
    assert sato.get(f"{API}/notes/{first['id']}").json()["superseded_by"] == second["id"]
    assert sato.get(f"{API}/notes/{third['id']}").json()["superseded_by"] is None

    # The history, oldest first, from any version, to whoever may read the note.
    chain = [first["id"], second["id"], third["id"]]
    for persona in ("commissioner_a", "care_worker", "care_supervisor"):
        client = client_for(persona)
        for version in chain:
            history = client.get(f"{API}/notes/{version}/history")
            assert history.status_code == 200, (persona, history.content)
            assert [v["id"] for v in history.json()["results"]] == chain
            assert [v["body"][:2] for v in history.json()["results"]] == ["v1", "v2", "v3"]
    # ... and nothing to anyone else, not even that the note exists.
    for persona in ("npo_worker", "commissioner_b", "care_outsider", "ward_caseworker", "partner",
                    "privacy_officer"):
        client = client_for(persona)
        for version in chain:
            assert client.get(f"{API}/notes/{version}/history").status_code == 404, persona
            assert client.get(f"{API}/notes/{version}").status_code == 404, persona
    assert grants_check() == []


def test_the_history_hides_the_versions_of_a_category_the_reader_may_not_see(world, client_for):
    sato = client_for("commissioner_a")
    first = write(sato, world, category="finances", body="年金の管理に不安").json()
    second = amend(sato, first["id"], "年金の管理に不安（長女が管理）").json()
    history = sato.get(f"{API}/notes/{second['id']}/history").json()["results"]
    assert [v["id"] for v in history] == [first["id"], second["id"]]
    care = client_for("care_worker")
    assert care.get(f"{API}/notes/{first['id']}/history").status_code == 404
    assert care.get(f"{API}/notes/{second['id']}/history").status_code == 404
    assert ids(care.get(f"{API}/notes?category=finances")) == []


def test_amending_a_superseded_version_is_a_conflict(world, client_for):
    sato = client_for("commissioner_a")
    first = write(sato, world).json()
    second = amend(sato, first["id"], "訂正版").json()
    count = Note.objects.count()

    response = amend(sato, first["id"], "古い版からの訂正")
    assert response.status_code == 409
    assert response.json()["code"] == "note_superseded"
    assert Note.objects.count() == count
    assert ids(sato.get(f"{API}/notes")) == [second["id"]]
    # Amending the latest still works.
    assert amend(sato, second["id"], "最新版からの訂正").status_code == 201


def test_the_same_amendment_retried_with_its_key_is_stored_once(world, client_for):
    sato = client_for("commissioner_a")
    first = write(sato, world).json()
    url = f"{API}/notes/{first['id']}/amend"
    responses = [sato.post(url, {"body": "訂正"}, format="json", HTTP_IDEMPOTENCY_KEY="amend-1") for _ in range(3)]
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Note.objects.filter(supersedes_id=first["id"]).count() == 1


def test_only_the_authors_organisation_may_amend(world, client_for):
    note = write(client_for("commissioner_a"), world).json()
    count = Note.objects.count()
    for persona, status in [
        ("care_worker", 403),  # may read the health note, but it is the council's to correct
        ("care_supervisor", 403),
        ("npo_worker", 404),  # may not even read it
        ("commissioner_b", 404),  # same council, another district: cannot see it
        ("ward_caseworker", 404),
        ("privacy_officer", 404),
    ]:
        response = amend(client_for(persona), note["id"], "他組織による訂正")
        assert response.status_code == status, (persona, response.content)
    assert Note.objects.count() == count
    assert Note.objects.get(pk=note["id"]).body == "血圧が高め。服薬の確認が必要。"


def test_another_member_of_the_authors_organisation_may_amend(world, client_for):
    note = write(client_for("care_worker"), world, category="living_situation", body="室内が散らかっている").json()
    assert note["author_organization"]["id"] == world.care_centre.id
    amended = amend(client_for("care_supervisor"), note["id"], "室内が散らかっている（ごみは回収済み）")
    assert amended.status_code == 201, amended.content
    assert amended.json()["author"]["id"] == world.users["care_supervisor"].id
    assert amended.json()["author_organization"]["id"] == world.care_centre.id


def test_another_commissioner_of_the_district_may_amend_a_commissioners_note(world, client_for):
    colleague = UserFactory(username="commissioner_a2")
    MembershipFactory(user=colleague, organization=world.council, role=Role.COMMISSIONER,
                      districts=[world.district_a])
    note = services.note_write(actor=world.users["commissioner_a"], resident=world.tanaka, category="family",
                               body="長女が月1回来訪")
    amended = services.note_amend(actor=colleague, note=note, body="長女が月2回来訪")
    assert amended.supersedes_id == note.id and amended.author_organization_id == world.council.id


def test_a_note_on_a_case_of_another_resident_is_refused(world, client_for):
    neighbour = ResidentFactory(district=world.district_a, registered_by=world.council)
    neighbour_case = CaseFactory(resident=neighbour, lead_organization=world.council,
                                 lead_worker=world.users["commissioner_a"])
    sato = client_for("commissioner_a")
    assert sato.get(f"{API}/cases/{neighbour_case.id}").status_code == 200
    response = write(sato, world, case=neighbour_case.id)
    assert response.status_code == 400
    assert response.json()["code"] == "note_case_mismatch"
    assert response.json()["errors"][0]["field"] == "case"
    assert not Note.objects.exists()


def test_a_note_about_an_invisible_resident_is_404_and_nothing_is_created(world, client_for):
    for persona in ("commissioner_b", "npo_worker", "care_outsider", "ward_caseworker", "privacy_officer",
                    "partner"):
        response = write(client_for(persona), world, case=None)
        assert response.status_code == 404, persona
        assert response.json()["code"] == "not_found"
        assert response.json()["errors"][0]["field"] == "resident"
    # A resident that does not exist looks the same as a hidden one.
    missing = write(client_for("commissioner_b"), world, resident=world.tanaka.id + 10_000, case=None)
    assert (missing.status_code, missing.json()["errors"][0]["field"]) == (404, "resident")
    # A visible resident with an invisible case: 404 on the case.
    response = write(client_for("commissioner_a"), world, case=world.suzuki_case.id)
    assert (response.status_code, response.json()["errors"][0]["field"]) == (404, "case")
    assert not Note.objects.exists()


def test_the_authors_organisation_always_sees_what_it_wrote(world, client_for):
    """The NPO, seeing Mr Tanaka by a basic consent, writes a finance note: it sees it, others do not."""
    case = world.tanaka_case
    services.case_update(actor=world.users["care_worker"], case=case, expected_version=case.version,
                         team=[world.npo])
    services.consent_record(actor=world.users["care_worker"], resident=world.tanaka, decision="granted",
                            grantor="self", recipient_organizations=[world.npo], categories=["basic"],
                            purposes=["watch_over"], method="oral")
    npo = client_for("npo_worker")
    note = write(npo, world, category="finances", body="食料支援の利用を希望")
    assert note.status_code == 201, note.content
    note_id = note.json()["id"]
    assert ids(npo.get(f"{API}/notes?category=finances")) == [note_id]
    for persona in ("commissioner_a", "care_worker"):
        assert client_for(persona).get(f"{API}/notes/{note_id}").status_code == 404, persona
    assert grants_check() == []


def test_notes_are_never_updated_or_deleted_through_the_api(world, client_for):
    sato = client_for("commissioner_a")
    note = write(sato, world).json()
    url = f"{API}/notes/{note['id']}"
    for method in (sato.put, sato.patch, sato.delete):
        assert method(url, {"body": "上書き"}, format="json").status_code == 405
    assert Note.objects.get(pk=note["id"]).body == "血圧が高め。服薬の確認が必要。"


def test_the_history_comes_a_page_at_a_time(world, client_for):
    """A note amended many times is not one answer of megabytes: its history pages like every list."""
    sato = client_for("commissioner_a")
    chain = [write(sato, world, body="v0").json()["id"]]
    for number in range(1, 5):
        chain.append(amend(sato, chain[-1], f"v{number}").json()["id"])

    pages, url = [], f"{API}/notes/{chain[-1]}/history?page_size=2"
    while url:
        page = sato.get(url)
        assert page.status_code == 200, page.content
        pages.append([version["id"] for version in page.json()["results"]])
        url = page.json()["next"]
    assert pages == [chain[0:2], chain[2:4], chain[4:5]]
    forged = sato.get(f"{API}/notes/{chain[-1]}/history?cursor=cD1hYmM%3D")
    assert (forged.status_code, forged.json()["errors"][0]["field"]) == (400, "cursor")
