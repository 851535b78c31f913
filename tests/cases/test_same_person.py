"""Registering someone who may already be registered: the ward section is asked to link them, and the
registering worker is warned by a task id that names only the record they just made."""

from __future__ import annotations

import datetime

from cases import services
from cases.models import Task, TaskKind
from notifications.models import OutboxMessage
from tests.helpers import API


def _register(world, actor, **fields):
    values = {"name_kanji": "田中 一朗", "name_kana": "たなか いちろう", "date_of_birth": datetime.date(1944, 5, 3),
              "postal_code": "2140014", "town": "登戸", "chome": 1, "block_number": "28-11",
              "district": world.district_a, "household_type": "lives_alone", **fields}
    return services.resident_register(actor=world.users[actor], **values)


def test_same_kana_and_birth_date_warn_without_showing_the_other(world, client_for):
    """Care centre 2 does not see Mr Tanaka: it learns a check was asked for, by the id of its own record."""
    new = _register(world, "care_outsider")
    task = Task.objects.get(dedupe_key=f"resident:{new.id}:same_person")
    assert (task.kind, task.assignee_organization, task.resident, task.created_by) == (
        TaskKind.LINK_RESIDENTS, world.ward_section, new, world.users["care_outsider"])
    warning = OutboxMessage.objects.get(recipient=world.users["care_outsider"], subject_id=task.id)
    assert (warning.event, warning.link) == ("possible_same_person", f"{API}/tasks/{task.id}")
    client = client_for("care_outsider")
    assert client.get(f"{API}/tasks/{task.id}").json()["resident"] == new.id
    assert client.get(f"{API}/residents/{world.tanaka.id}").status_code == 404


def test_same_kana_and_dwelling_warn_too(world):
    new = _register(world, "care_worker", date_of_birth=datetime.date(1950, 1, 1),
                    block_number=world.tanaka.block_number)
    assert Task.objects.filter(dedupe_key=f"resident:{new.id}:same_person").exists()


def test_another_person_is_not_flagged(world):
    new = _register(world, "care_worker", date_of_birth=datetime.date(1950, 1, 1))
    other = _register(world, "care_worker", name_kana="ヤマダ イチロウ", block_number=world.tanaka.block_number)
    assert not Task.objects.filter(dedupe_key__in=[f"resident:{new.id}:same_person",
                                                   f"resident:{other.id}:same_person"]).exists()
