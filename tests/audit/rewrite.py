"""The tester's rewrite of the access log, as plain SQL steps, shared by the anchor and role-split tests.

Drop one user's entries, renumber and re-hash the rest with the project's own digest, move the
head onto the new last entry: a forgery consistent with itself."""

from __future__ import annotations

from audit.chain import entry_digest
from audit.models import AccessLogEntry


def forged_chain(*, without_user_id: int) -> tuple[list[tuple[int, int, str, str]], tuple[int, str]]:
    """(id, seq, prev_hash, entry_hash) of every kept entry after re-chaining, and the forged head."""
    rows, previous, seq = [], "", 0
    for entry in AccessLogEntry.objects.exclude(user_id=without_user_id).order_by("seq"):
        seq += 1
        entry.seq, entry.prev_hash = seq, previous
        entry.entry_hash = previous = entry_digest(entry)
        rows.append((entry.id, entry.seq, entry.prev_hash, entry.entry_hash))
    return rows, (seq, previous)


def delete_entries_sql(user_id: int) -> tuple[str, list]:
    return "DELETE FROM audit_accesslogentry WHERE user_id = %s", [user_id]


def update_hashes(cursor, rows: list[tuple[int, int, str, str]]) -> None:
    for entry_id, seq, prev_hash, entry_hash in rows:  # ascending: each new position is free by now
        cursor.execute("UPDATE audit_accesslogentry SET seq = %s, prev_hash = %s, entry_hash = %s WHERE id = %s",
                       [seq, prev_hash, entry_hash, entry_id])


def update_head_sql(head: tuple[int, str]) -> tuple[str, list]:
    return "UPDATE audit_accessloghead SET seq = %s, entry_hash = %s WHERE id = 1", list(head)


def rechain_without(user_id: int, cursor) -> None:
    """The whole rewrite on a cursor that may bypass the triggers."""
    rows, head = forged_chain(without_user_id=user_id)
    cursor.execute(*delete_entries_sql(user_id))
    update_hashes(cursor, rows)
    cursor.execute(*update_head_sql(head))
