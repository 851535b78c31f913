"""Tamper evidence: the access log is append-only in the database and hash-chained; audit_verify finds an edited,
a removed and a reordered entry and says where (entry id and position), with exit status 1."""

from __future__ import annotations

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.access_log import access_log_reads
from audit.chain import access_log_seal, access_log_verify, entry_digest
from audit.models import AccessLogEntry, AccessLogHead
from tests.helpers import bypassing_the_trigger

# The append-only trigger exists on PostgreSQL only, and concurrent sealers need its row locks.
postgres_only = pytest.mark.services


def _write(n: int) -> list[AccessLogEntry]:
    for i in range(n):
        access_log_reads(kind="resident", resident_ids=[1000 + i], categories=["basic"], basis="district")
    access_log_seal()
    return list(AccessLogEntry.objects.order_by("seq"))




def _verify_fails_naming(capsys, *fragments: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        call_command("audit_verify")
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_sealing_chains_entries_in_order(db, capsys):
    entries = _write(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    links = zip(entries, entries[1:], strict=False)
    assert entries[0].prev_hash == "" and all(b.prev_hash == a.entry_hash for a, b in links)
    assert all(entry_digest(e) == e.entry_hash for e in entries)
    assert AccessLogHead.objects.get(pk=1).seq == 5
    call_command("audit_verify")
    assert "access log intact: checked 5 entries" in capsys.readouterr().out


def test_an_edited_entry_is_found(db, capsys):
    entries = _write(5)
    bypassing_the_trigger("UPDATE audit_accesslogentry SET user_id = 99 WHERE id = %s", [entries[2].id])
    _verify_fails_naming(capsys, f"entry id {entries[2].id} at position 3: content does not match its hash")


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(db, capsys):
    entries = _write(5)
    forged = AccessLogEntry.objects.get(pk=entries[2].id)
    forged.username = "someone-else"
    bypassing_the_trigger("UPDATE audit_accesslogentry SET username = %s, entry_hash = %s WHERE id = %s",
                           [forged.username, entry_digest(forged), forged.id])
    _verify_fails_naming(capsys, f"entry id {entries[3].id} at position 4: does not follow the entry before it")


def test_a_deleted_entry_is_found(db, capsys):
    entries = _write(5)
    bypassing_the_trigger("DELETE FROM audit_accesslogentry WHERE id = %s", [entries[1].id])
    _verify_fails_naming(capsys, f"entry id {entries[2].id} at position 3: positions 2–2 are missing",
                         f"entry id {entries[2].id} at position 3: does not follow")


def test_a_deleted_last_entry_is_found_by_the_head(db, capsys):
    entries = _write(3)
    bypassing_the_trigger("DELETE FROM audit_accesslogentry WHERE id = %s", [entries[2].id])
    _verify_fails_naming(capsys, "chain head is at position 3 but the last entry is at 2")


def test_reordered_entries_are_found(db, capsys):
    entries = _write(5)
    a, b = entries[1], entries[2]  # positions 2 and 3 swap places
    bypassing_the_trigger("UPDATE audit_accesslogentry SET seq = -1 WHERE id = %s", [a.id])
    bypassing_the_trigger("UPDATE audit_accesslogentry SET seq = 2 WHERE id = %s", [b.id])
    bypassing_the_trigger("UPDATE audit_accesslogentry SET seq = 3 WHERE id = %s", [a.id])
    _verify_fails_naming(capsys, f"entry id {b.id} at position 2: does not follow",
                         f"entry id {b.id} at position 2: content does not match its hash",
                         f"entry id {a.id} at position 3")


def test_verify_reports_entries_the_sealer_left_behind(db):
    access_log_reads(kind="resident", resident_ids=[1], categories=["basic"], basis="district")
    later = access_log_verify(now=timezone.now() + datetime.timedelta(minutes=6))
    assert not later.ok and "not sealed after" in later.problems[0]
    assert access_log_verify().ok  # within the grace period it is only pending


@postgres_only
def test_the_database_refuses_update_and_delete(db):
    (entry,) = _write(1)
    for sql in ("UPDATE audit_accesslogentry SET user_id = 5 WHERE id = %s",
                "UPDATE audit_accesslogentry SET seq = 99 WHERE id = %s",
                "DELETE FROM audit_accesslogentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [entry.id])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.id).update(username="x")
    assert AccessLogEntry.objects.get(pk=entry.id).entry_hash == entry.entry_hash


# For every stored column but the seal's own: an expression giving it another value.
_ANOTHER_VALUE = {
    "id": "id + 1000000", "at": "at - interval '1 second'", "user_id": "coalesce(user_id, 0) + 1",
    "username": "username || 'x'", "action": "'export'", "kind": "kind || 'x'",
    "resident_id": "coalesce(resident_id, 0) + 1", "object_ids": "object_ids || '[1]'::jsonb",
    "categories": "categories || '[\"x\"]'::jsonb", "bases": "bases || '[\"x\"]'::jsonb",
    "outside_caseload": "NOT outside_caseload", "request_id": "request_id || 'x'", "route": "route || 'x'",
    "changes": "changes || '{\"x\": [1, 2]}'::jsonb",
}
_SEAL = ("seq", "prev_hash", "entry_hash")


def test_the_guard_covers_every_column():
    """A column added to the log needs a row here, so the test below tries to slip a change of it into a seal."""
    columns = {f.column for f in AccessLogEntry._meta.concrete_fields} - set(_SEAL)
    assert columns == set(_ANOTHER_VALUE)


@postgres_only
@pytest.mark.parametrize("column", sorted(_ANOTHER_VALUE))
def test_sealing_cannot_change_anything_else(db, column):
    access_log_reads(kind="resident", resident_ids=[1000], categories=["basic"], basis="district")
    entry = AccessLogEntry.objects.get(seq__isnull=True)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE audit_accesslogentry SET seq = 1, prev_hash = '', entry_hash = 'h', "
                       f"{column} = {_ANOTHER_VALUE[column]} WHERE id = %s", [entry.id])
    with connection.cursor() as cursor:  # the seal alone is let through
        cursor.execute("UPDATE audit_accesslogentry SET seq = 1, prev_hash = '', entry_hash = 'h' WHERE id = %s",
                       [entry.id])
    assert AccessLogEntry.objects.get(pk=entry.id).seq == 1


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_writers_and_sealers_never_fork_the_chain():
    """Eight threads write and seal at once: one chain, no gaps, every link right."""
    errors: list[Exception] = []

    def work(worker: int) -> None:
        try:
            for i in range(10):
                with transaction.atomic():
                    access_log_reads(kind="resident", resident_ids=[worker * 100 + i], categories=["basic"],
                                     basis="district")
                access_log_seal()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    access_log_seal()
    assert not errors
    result = access_log_verify()
    assert result.ok, result.problems
    assert result.checked == 80
    assert sorted(AccessLogEntry.objects.values_list("seq", flat=True)) == list(range(1, 81))
