"""External anchors: the sealed head signed into a file outside the database, and checked by audit_verify.

A log rewritten by someone who can recompute every hash (delete one user's entries, re-chain,
move the head) is consistent with itself; it is found because it disagrees with the anchors."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.access_log import access_log_reads
from audit.anchors import anchors_read
from audit.chain import access_log_anchor, access_log_seal, access_log_verify
from audit.models import AccessLogEntry, AccessLogHead
from cases.models import User
from tests.audit.rewrite import rechain_without

KEY = "anchor-key-for-tests-0123456789-abcdefghijklmnop"


@pytest.fixture
def anchored(settings, tmp_path):
    settings.AUDIT_ANCHOR_PATH = str(tmp_path / "anchors.jsonl")
    settings.AUDIT_ANCHOR_KEY = KEY
    return tmp_path / "anchors.jsonl"


def _write(*, users: list[User], each: int) -> None:
    for user in users:
        for i in range(each):
            access_log_reads(kind="resident", resident_ids=[5000 + i], categories=["basic"], basis="district",
                             user=user)
    access_log_seal()


def _rechain_bypassing_triggers(user_id: int) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        try:
            rechain_without(user_id, cursor)
        finally:
            if connection.vendor == "postgresql":
                cursor.execute("SET session_replication_role = DEFAULT")


def test_the_anchor_task_signs_the_head_once_per_move(db, anchored, django_user_model):
    alice = django_user_model.objects.create(username="alice")
    _write(users=[alice], each=3)
    first = access_log_anchor()
    assert (first.seq, first.entry_hash) == (3, AccessLogHead.objects.get(pk=1).entry_hash)
    assert access_log_anchor() is None  # the head has not moved
    _write(users=[alice], each=2)
    assert access_log_anchor().seq == 5
    anchors, problems = anchors_read(anchored)
    assert [a.seq for a in anchors] == [3, 5] and problems == []
    line = json.loads(anchored.read_text().splitlines()[0])
    assert set(line) == {"seq", "entry_hash", "at", "mac"} and len(line["mac"]) == 64


def test_a_rechained_log_is_found_through_the_anchors(db, anchored, django_user_model, capsys):
    alice, mallory = (django_user_model.objects.create(username=name) for name in ("alice", "mallory"))
    for user in (alice, mallory, alice):  # positions 1-2 alice, 3-4 mallory, 5-6 alice
        _write(users=[user], each=2)
    access_log_anchor()
    _write(users=[alice], each=2)
    access_log_anchor()
    _rechain_bypassing_triggers(mallory.id)
    result = access_log_verify()
    first, second = (f"{a.at:%Y-%m-%d %H:%M}" for a in anchors_read(anchored)[0])
    assert result.checked == 6 and not AccessLogEntry.objects.filter(user_id=mallory.id).exists()
    assert result.problems == [
        f"anchor line 1 ({first}): position 6 no longer has the anchored hash (the log was rewritten and re-chained)",
        f"anchor line 2 ({second}): position 8 is missing from the log (entries removed after it was anchored)",
        "chain head is at position 6, behind the newest anchor at 8 (entries removed and the head moved back)",
    ]
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_verify")
    assert exit_.value.code == 1
    assert "access log BROKEN (3 problems)" in capsys.readouterr().err


def test_the_same_rewrite_passes_without_anchors(db, settings, django_user_model, capsys):
    """What the anchors add: the chain alone cannot tell a consistent re-chaining from the original."""
    settings.AUDIT_ANCHOR_PATH = ""
    alice, mallory = (django_user_model.objects.create(username=name) for name in ("alice", "mallory"))
    for user in (alice, mallory, alice):
        _write(users=[user], each=2)
    _rechain_bypassing_triggers(mallory.id)
    assert access_log_verify().ok


def test_the_anchor_task_refuses_to_vouch_for_a_rewritten_log(db, anchored, django_user_model, caplog):
    alice, mallory = (django_user_model.objects.create(username=name) for name in ("alice", "mallory"))
    _write(users=[alice, mallory], each=2)
    access_log_anchor()
    _rechain_bypassing_triggers(mallory.id)
    _write(users=[alice], each=3)  # the forger's head goes on from the rewritten chain
    assert access_log_anchor() is None
    assert "access log not anchored: position 4 no longer has the hash anchored" in caplog.text
    assert [a.seq for a in anchors_read(anchored)[0]] == [4]


def test_an_edited_anchor_line_is_reported(db, anchored, django_user_model):
    alice = django_user_model.objects.create(username="alice")
    _write(users=[alice], each=2)
    access_log_anchor()
    line = json.loads(anchored.read_text())
    line["seq"] = 1
    anchored.write_text(json.dumps(line) + "\n")
    assert access_log_verify().problems == [
        "anchor line 1: signature does not match (the file was edited, or another key)"]


def test_a_stopped_anchor_task_is_reported(db, anchored, django_user_model):
    alice = django_user_model.objects.create(username="alice")
    _write(users=[alice], each=1)
    assert access_log_verify().ok
    later = access_log_verify(now=timezone.now() + datetime.timedelta(hours=1))
    assert later.problems == ["position 1 was sealed but not anchored for more than 1800 s "
                              "(is the anchor task running?)"]
    access_log_anchor()
    assert access_log_verify(now=timezone.now() + datetime.timedelta(hours=1)).ok


def test_without_an_anchor_file_verify_says_what_it_cannot_see(db, settings, capsys):
    settings.AUDIT_ANCHOR_PATH = ""
    call_command("audit_verify")
    assert "no external anchor (AUDIT_ANCHOR_PATH unset)" in capsys.readouterr().out
