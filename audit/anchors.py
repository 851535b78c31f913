"""The chain head anchored outside the database: signed checkpoints in a file the operator chooses.

The hash chain (audit/chain.py) proves that the log is consistent with itself; whoever can
rewrite the tables (the owner) can recompute every hash and the head and leave a consistent
forgery. An anchor pins the chain to what it was: at intervals the worker signs the head,

    {"seq": 1234, "entry_hash": "…", "at": "2026-12-01T13:20:00.000000+00:00", "mac": "…"}
    mac = HMAC-SHA256(AUDIT_ANCHOR_KEY, canonical JSON of seq, entry_hash, at)

and appends it as one line to `AUDIT_ANCHOR_PATH`. The database never sees the key or the file.
`anchors_check` (run by `audit_verify`) reads every anchor above the last retention checkpoint
and requires that the entry at each anchored position still carries the anchored hash and
that the head has not fallen behind the newest anchor. A log re-chained after an anchor was
written fails there, however consistent its own hashes are. (Why an HMAC and a file: ADR 0009.)
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from audit.models import AccessLogCheckpoint, AccessLogEntry, AccessLogHead

TAIL_BYTES = 4096
LOOKUP_CHUNK = 1000


@dataclass(frozen=True)
class Anchor:
    seq: int
    entry_hash: str
    at: datetime.datetime
    line: int = 0


@dataclass
class AnchorCheck:
    configured: bool = False
    checked: int = 0
    newest: Anchor | None = None
    problems: list[str] = field(default_factory=list)


def anchor_path() -> Path | None:
    return Path(settings.AUDIT_ANCHOR_PATH) if settings.AUDIT_ANCHOR_PATH else None


def _mac(*, seq: int, entry_hash: str, at: str) -> str:
    message = json.dumps({"at": at, "entry_hash": entry_hash, "seq": seq}, sort_keys=True, separators=(",", ":"))
    return hmac.new(settings.AUDIT_ANCHOR_KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


def anchor_line(anchor: Anchor) -> str:
    at = anchor.at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    mac = _mac(seq=anchor.seq, entry_hash=anchor.entry_hash, at=at)
    return json.dumps({"seq": anchor.seq, "entry_hash": anchor.entry_hash, "at": at, "mac": mac},
                      sort_keys=True, separators=(",", ":")) + "\n"


def _parse(text: str, number: int) -> Anchor:
    """One line as an Anchor; ValueError says what is wrong with it."""
    try:
        data = json.loads(text)
        seq, entry_hash, at, mac = int(data["seq"]), str(data["entry_hash"]), str(data["at"]), str(data["mac"])
        when = datetime.datetime.fromisoformat(at)
    except (ValueError, KeyError, TypeError):
        raise ValueError(f"anchor line {number}: not an anchor") from None
    if not hmac.compare_digest(mac, _mac(seq=seq, entry_hash=entry_hash, at=at)):
        raise ValueError(f"anchor line {number}: signature does not match (the file was edited, or another key)")
    return Anchor(seq=seq, entry_hash=entry_hash, at=when, line=number)


def anchors_read(path: Path) -> tuple[list[Anchor], list[str]]:
    """Every anchor in the file, oldest first, and a problem for each line that is not a signed anchor."""
    anchors, problems = [], []
    if not path.exists():
        return anchors, problems
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                anchors.append(_parse(text, number))
            except ValueError as error:
                problems.append(str(error))
    return anchors, problems


def anchor_last(path: Path) -> Anchor | None:
    """The newest signed anchor (read from the file's end), or None when there is none."""
    if not path.exists():
        return None
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - TAIL_BYTES))
        tail = handle.read().decode("utf-8", errors="replace").splitlines()
    for text in reversed(tail):
        if text.strip():
            try:
                return _parse(text, 0)
            except ValueError:
                return None
    return None


def anchor_append(path: Path, anchor: Anchor) -> None:
    """Append one line and flush it to the disk before returning (the file is only ever appended to)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(anchor_line(anchor))
        handle.flush()
        os.fsync(handle.fileno())


def _hashes_at(seqs: list[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(seqs), LOOKUP_CHUNK):
        rows = AccessLogEntry.objects.filter(seq__in=seqs[start:start + LOOKUP_CHUNK]).values_list("seq", "entry_hash")
        found.update(rows)
    return found


def anchors_check(*, checkpoint: AccessLogCheckpoint | None, head: AccessLogHead | None,
                  now: datetime.datetime) -> AnchorCheck:
    """The database's chain against every anchor above the last checkpoint (retention removed the rest)."""
    path = anchor_path()
    if path is None:
        return AnchorCheck()
    result = AnchorCheck(configured=True)
    anchors, result.problems = anchors_read(path)
    through = checkpoint.through_seq if checkpoint else 0
    current = [a for a in anchors if a.seq > through]
    hashes = _hashes_at(sorted({a.seq for a in current}))
    for anchor in anchors:
        if checkpoint is not None and anchor.seq == through and anchor.entry_hash != checkpoint.entry_hash:
            result.problems.append(f"anchor line {anchor.line}: checkpoint at position {through} does not carry "
                                   "the anchored hash (the log was rewritten before retention)")
    for anchor in current:
        result.checked += 1
        stored = hashes.get(anchor.seq)
        if stored is None:
            result.problems.append(f"anchor line {anchor.line} ({anchor.at:%Y-%m-%d %H:%M}): position {anchor.seq} "
                                   "is missing from the log (entries removed after it was anchored)")
        elif stored != anchor.entry_hash:
            result.problems.append(f"anchor line {anchor.line} ({anchor.at:%Y-%m-%d %H:%M}): position {anchor.seq} "
                                   "no longer has the anchored hash (the log was rewritten and re-chained)")
    result.newest = anchors[-1] if anchors else None
    if result.newest is not None and head is not None and head.seq < result.newest.seq:
        result.problems.append(f"chain head is at position {head.seq}, behind the newest anchor at "
                               f"{result.newest.seq} (entries removed and the head moved back)")
    overdue = now - datetime.timedelta(seconds=3 * settings.AUDIT_ANCHOR_INTERVAL_SECONDS)
    after = max(result.newest.seq if result.newest else 0, through)
    oldest_unanchored = AccessLogEntry.objects.filter(seq=after + 1).values_list("at", flat=True).first()
    if oldest_unanchored is not None and oldest_unanchored < overdue:
        result.problems.append(f"position {after + 1} was sealed but not anchored for more than "
                               f"{3 * settings.AUDIT_ANCHOR_INTERVAL_SECONDS} s (is the anchor task running?)")
    return result
