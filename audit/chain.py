"""The access log's hash chain: seal entries in commit order, verify the whole chain.

Writers insert entries unchained (one INSERT, no lock), so a request never waits
for another request's log. The sealer takes the head row's lock
(`SELECT … FOR UPDATE`: one sealer at a time on PostgreSQL; SQLite has one writer
anyway), reads the unsealed entries that have committed, and gives each the next
position `seq`, the previous entry's hash and its own hash

    entry_hash = sha256(canonical JSON of every stored field, seq and prev_hash included)

so the chain follows commit order and can never fork: an entry committed late is
simply sealed later. The database trigger (migration 0002) allows exactly this one
update (an empty seal filled in, nothing else changed) and no other.

`access_log_verify` recomputes every hash from the stored fields and walks the
chain from the latest checkpoint (or the genesis): an edited entry fails its own
hash, a removed one leaves a gap in `seq` and a broken link, a reordered one
breaks both, a truncated tail disagrees with the head row. A log re-chained by someone who can
rewrite the tables is consistent with itself; it disagrees with the signed anchors that
`access_log_anchor` writes outside the database (audit/anchors.py), which verification
checks too.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from audit.anchors import Anchor, AnchorCheck, anchor_append, anchor_last, anchor_path, anchors_check
from audit.models import AccessLogCheckpoint, AccessLogEntry, AccessLogHead

logger = logging.getLogger("audit.chain")

SEAL_BATCH = 2000
# An entry not sealed after this long means the sealer is not running: verification reports it.
SEAL_GRACE = datetime.timedelta(minutes=5)
HASHED_FIELDS = ("id", "seq", "prev_hash", "at", "user_id", "username", "action", "kind", "resident_id",
                 "object_ids", "categories", "bases", "outside_caseload", "request_id", "route", "changes")


def _instant(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def entry_digest(entry: AccessLogEntry) -> str:
    """sha256 over the canonical JSON (sorted keys, no spaces, UTF-8) of the entry's stored fields."""
    payload = {name: getattr(entry, name) for name in HASHED_FIELDS}
    payload["at"] = _instant(entry.at)
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _head_for_update() -> AccessLogHead:
    head = AccessLogHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # a flushed test database; the migration creates it everywhere else
        AccessLogHead.objects.get_or_create(pk=1)
        head = AccessLogHead.objects.select_for_update().get(pk=1)
    return head


def _store_seals(entries: list[AccessLogEntry]) -> None:
    """One UPDATE … FROM unnest(four arrays) on PostgreSQL, four parameters whatever the batch: a VALUES list's
    thousands of placeholders cost the driver more to split than the update costs the server, and
    bulk_update's CASE is quadratic in the batch (SQLite's batches are kept small)."""
    if connection.vendor != "postgresql":
        AccessLogEntry.objects.bulk_update(entries, ["seq", "prev_hash", "entry_hash"], batch_size=500)
        return
    table = connection.ops.quote_name(AccessLogEntry._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS e SET seq = v.seq, prev_hash = v.prev_hash, entry_hash = v.entry_hash "
            "FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], %s::varchar[]) "
            "AS v(id, seq, prev_hash, entry_hash) WHERE e.id = v.id",
            [[e.id for e in entries], [e.seq for e in entries], [e.prev_hash for e in entries],
             [e.entry_hash for e in entries]])


def access_log_seal(*, limit: int | None = None) -> int:
    """Chain every committed unsealed entry (oldest id first); returns how many were sealed."""
    sealed = 0
    while limit is None or sealed < limit:
        batch = SEAL_BATCH if limit is None else min(SEAL_BATCH, limit - sealed)
        with transaction.atomic():
            head = _head_for_update()
            pending = list(AccessLogEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
            if not pending:
                return sealed
            seq, previous = head.seq, head.entry_hash
            for entry in pending:
                seq += 1
                entry.seq, entry.prev_hash = seq, previous
                entry.entry_hash = previous = entry_digest(entry)
            _store_seals(pending)
            head.seq, head.entry_hash, head.sealed_at = seq, previous, timezone.now()
            head.save(update_fields=["seq", "entry_hash", "sealed_at"])
            sealed += len(pending)
    return sealed


@dataclass
class Verification:
    checked: int = 0
    retained: int = 0
    pending: int = 0
    start_seq: int = 0
    head_seq: int = 0
    problems: list[str] = field(default_factory=list)
    anchors: AnchorCheck = field(default_factory=AnchorCheck)

    @property
    def ok(self) -> bool:
        return not self.problems


def _sealed_in_order(after_seq: int) -> Iterator[AccessLogEntry]:
    last = after_seq
    while True:
        chunk = list(AccessLogEntry.objects.filter(seq__gt=last).order_by("seq")[:SEAL_BATCH])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1].seq


def _where(entry: AccessLogEntry) -> str:
    return f"entry id {entry.id} at position {entry.seq}"


def _check_retained(checkpoint: AccessLogCheckpoint | None, result: Verification) -> None:
    """Entries kept below the checkpoint (legal hold) must be exactly those it lists, unchanged."""
    below = AccessLogEntry.objects.filter(seq__lte=checkpoint.through_seq if checkpoint else 0).order_by("seq")
    listed = {row[0]: (row[1], row[2]) for row in (checkpoint.retained if checkpoint else [])}
    for entry in below:
        result.retained += 1
        expected = listed.pop(entry.id, None)
        if expected is None:
            result.problems.append(f"{_where(entry)}: below checkpoint {checkpoint.through_seq} but not retained")
        elif entry_digest(entry) != entry.entry_hash or (entry.seq, entry.entry_hash) != tuple(expected):
            result.problems.append(f"{_where(entry)}: retained entry changed")
    for entry_id, (seq, _) in sorted(listed.items()):
        result.problems.append(f"entry id {entry_id} at position {seq}: retained under legal hold, now missing")


def access_log_verify(*, now: datetime.datetime | None = None) -> Verification:
    """Every problem in the chain, each naming the entry id and position where it shows."""
    now = now or timezone.now()
    result = Verification()
    checkpoint = AccessLogCheckpoint.objects.order_by("-through_seq").first()
    expected_seq = checkpoint.through_seq + 1 if checkpoint else 1
    previous = checkpoint.entry_hash if checkpoint else ""
    result.start_seq = expected_seq
    _check_retained(checkpoint, result)
    last_seq, last_hash = expected_seq - 1, previous
    for entry in _sealed_in_order(expected_seq - 1):
        result.checked += 1
        if entry.seq != expected_seq:
            result.problems.append(
                f"{_where(entry)}: positions {expected_seq}–{entry.seq - 1} are missing (entries removed)")
        if entry.prev_hash != previous:
            result.problems.append(f"{_where(entry)}: does not follow the entry before it (removed or reordered)")
        if entry_digest(entry) != entry.entry_hash:
            result.problems.append(f"{_where(entry)}: content does not match its hash (changed or moved)")
        previous, expected_seq = entry.entry_hash, entry.seq + 1
        last_seq, last_hash = entry.seq, entry.entry_hash
    head = AccessLogHead.objects.filter(pk=1).first()
    result.head_seq = head.seq if head else 0
    if head is not None and (head.seq, head.entry_hash) != (last_seq, last_hash):
        result.problems.append(
            f"chain head is at position {head.seq} but the last entry is at {last_seq}: "
            f"entries after position {last_seq} were removed or the head was changed")
    result.anchors = anchors_check(checkpoint=checkpoint, head=head, now=now)
    result.problems += result.anchors.problems
    unsealed = AccessLogEntry.objects.filter(seq__isnull=True)
    result.pending = unsealed.count()
    for entry_id in unsealed.filter(at__lt=now - SEAL_GRACE).order_by("id").values_list("id", flat=True)[:20]:
        result.problems.append(f"entry id {entry_id}: not sealed after {SEAL_GRACE} (is the sealer running?)")
    return result


def _follows(*, anchor: Anchor, head: AccessLogHead) -> str | None:
    """Why the sealed entries from the last anchor up to the head do not chain on from it (None: they do)."""
    checkpoint = AccessLogCheckpoint.objects.filter(through_seq__gte=anchor.seq).order_by("through_seq").last()
    start = AccessLogEntry.objects.filter(seq=anchor.seq).first()
    if checkpoint is not None and start is None:  # retention removed the anchored entry: start at its cut
        previous, position = checkpoint.entry_hash, checkpoint.through_seq
    elif start is None or start.entry_hash != anchor.entry_hash:
        return f"position {anchor.seq} no longer has the hash anchored at {anchor.at.isoformat()}"
    else:
        previous, position = anchor.entry_hash, anchor.seq
    for entry in _sealed_in_order(position):
        if entry.seq > head.seq:
            break
        if entry.seq != position + 1 or entry.prev_hash != previous or entry_digest(entry) != entry.entry_hash:
            return f"the chain breaks at entry id {entry.id} (position {entry.seq})"
        previous, position = entry.entry_hash, entry.seq
    if (position, previous) != (head.seq, head.entry_hash):
        return f"the head at position {head.seq} is not where the chain from the last anchor ends ({position})"
    return None


def access_log_anchor(*, now: datetime.datetime | None = None) -> Anchor | None:
    """Sign the chain head and append it to the anchor file (audit/anchors.py).

    Writes nothing when anchoring is not configured or the head has not moved since the last
    anchor, and refuses (logs an error, writes nothing) when the entries sealed since the last
    anchor do not chain on from it: an anchor never vouches for a log that was rewritten.
    """
    path = anchor_path()
    if path is None:
        return None
    head = AccessLogHead.objects.filter(pk=1).first()
    if head is None or head.seq == 0:
        return None
    last = anchor_last(path)
    if last is not None and (last.seq, last.entry_hash) == (head.seq, head.entry_hash):
        return None
    if last is not None and (broken := _follows(anchor=last, head=head)):
        logger.error("access log not anchored: %s since the last anchor; run manage.py audit_verify", broken)
        return None
    anchor = Anchor(seq=head.seq, entry_hash=head.entry_hash, at=now or timezone.now())
    anchor_append(path, anchor)
    return anchor
