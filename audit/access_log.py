"""Writing the access log: who read or changed which resident's data, when, why and in which request.

Reads are collected during a request and written at its end in ONE bulk INSERT
(one row per resident × kind of record), so a list costs the same number of
queries whatever its length. The collector is opened by `AccessLogMiddleware`
(every HTTP request: API and admin) or by `access_log_context()` (tasks,
commands). What counts as read is what was serialised to the caller: the API's
response serializers call `access_log_read(instance)` (api/serializers/base.py),
exports and aggregate views call `access_log_reads(...)`. A record the same request
created is not logged again as read when it is echoed back to its author: its change
entry already records it (an update's response is logged as a read: it shows more
than what changed).

The basis of each read is looked up at the end of the request from the grant
rows through which the reader's active groups hold the records (the same rows
`permissions.access.scope` filtered on), one query per kind of grant.

Writes (audit/changes.py) are inserted at once, inside the transaction of the
change, so a change and its entry commit or roll back together.

Entries are sealed into the hash chain shortly after (audit/chain.py), so no
request waits on another request's log.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import json
import types
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import orjson
from django.db import connection
from django.utils import timezone

from audit.models import AccessLogEntry, Action
from audit.subjects import residents_resolve, subject_for
from audit.switch import is_suspended
from backend.prepared import prepared_cursor
from backend.request_id import current_request_id
from permissions.access import HELD_THROUGH, grant_bases
from permissions.policy import THIRD_PARTY_PREFIXES


@dataclass
class _Read:
    model: type
    object_id: int
    residents: list[int] | None
    categories: list[str]
    grant_key: tuple | None  # (grant model, codename, object id)
    basis: str
    held_through: list[str] | None = None  # the grant's bases as the record's own query read them, if it did


@dataclass
class _Explicit:
    kind: str
    action: str
    resident_ids: list[int]
    categories: list[str]
    bases: list[str]
    object_ids: list[int]


@dataclass
class AccessContext:
    """What one request (or task) disclosed, written at its end."""

    route: str = ""
    user: object = None
    request: object = None  # HTTP: the user is known only once the view authenticated it
    reads: dict[tuple[type, int], _Read] = field(default_factory=dict)
    explicit: list[_Explicit] = field(default_factory=list)
    # (kind, id) of the records this request created: their change entry already says who wrote
    # them, when, about whom and what; echoing them back to their author is not another disclosure.
    created: set[tuple[str, int]] = field(default_factory=set)
    # Who the reader is when it is not a person: an organisation's API client, written in the
    # `username` column (hashed into the chain like every field): "client:<id>/org:<id>/purpose:<purpose>".
    acting_as: str = ""

    def actor(self):
        if self.user is not None:
            return self.user
        return getattr(self.request, "user", None) if self.request is not None else None


_context: contextvars.ContextVar[AccessContext | None] = contextvars.ContextVar("access_log_context", default=None)


@contextlib.contextmanager
def access_log_request(request) -> Iterator[AccessContext]:
    """The middleware's collector for one HTTP request (flushed by the middleware on success)."""
    context = AccessContext(request=request)
    token = _context.set(context)
    try:
        yield context
    finally:
        _context.reset(token)


@contextlib.contextmanager
def access_log_context(*, route: str, user=None) -> Iterator[AccessContext]:
    """Collect reads outside HTTP (a task, a command) and write them when the block ends without error."""
    context = AccessContext(route=route, user=user)
    token = _context.set(context)
    try:
        yield context
        access_log_flush(context, user=user)
    finally:
        _context.reset(token)


def access_log_acting_as(label: str) -> None:
    """Name the current reader for the log: an organisation's API client, its organisation and the purpose it
    declared for this request (the user id stays the client's own account)."""
    context = _context.get()
    if context is not None:
        context.acting_as = label[:150]


def access_log_read(instance) -> None:
    """Note that `instance` is being disclosed to the current reader (no-op outside a request or for other data)."""
    _note_read(type(instance), instance)


def access_log_read_rows(model: type, rows: Iterable[dict]) -> None:
    """The same for records of `model` read as rows of values (a list written without model instances):
    each row holds the fields its subject describes the record by (`id`, `resident_id`, ...)."""
    for row in rows:
        _note_read(model, types.SimpleNamespace(pk=row["id"], **row))


def _note_read(model: type, record) -> None:
    context = _context.get()
    if context is None or is_suspended():
        return
    subject = subject_for(model)
    if subject is None or record.pk is None:
        return
    key = (model, record.pk)
    if key in context.reads or (subject.kind, record.pk) in context.created:
        return
    grant_key = held_through = None
    if subject.grant is not None:
        grant_model, codename, attribute = subject.grant
        grant_key = (grant_model, codename, getattr(record, attribute))
        if grant_model is model:  # bases read with the record are of its own grants (permissions.access.scope)
            held_through = getattr(record, HELD_THROUGH, None)
    context.reads[key] = _Read(model, record.pk, subject.residents(record), subject.category(record),
                               grant_key, subject.basis, held_through)


def access_log_reads(*, kind: str, resident_ids: Iterable[int], categories: Iterable[str], basis: str,
                     object_ids: Iterable[int] = (), action: str = Action.READ, user=None, route: str = "") -> None:
    """Record a read that is not one serialised record (an export, an aggregate): in the request, or at once."""
    explicit = _Explicit(kind, action, sorted(set(resident_ids)), sorted(set(categories)), [basis],
                         sorted(set(object_ids)))
    context = _context.get()
    if is_suspended():
        return
    if context is not None:
        context.explicit.append(explicit)
        return
    _write(_entries_for_explicit([explicit], user=user, route=route))


def _user_fields(user) -> tuple[int | None, str]:
    if user is None or not getattr(user, "is_authenticated", False):
        return None, ""
    return user.pk, user.get_username()


def _outside_caseload(bases: Iterable[str]) -> bool:
    bases = list(bases)
    return bool(bases) and all(basis.startswith(THIRD_PARTY_PREFIXES) for basis in bases)


def _entry(**fields) -> dict:
    """One access-log row as the INSERT takes it (a plain dict: building model instances cost more)."""
    return {"changes": {}, "outside_caseload": False, "prev_hash": "", "entry_hash": "", **fields}


def _entries_for_explicit(explicit: list[_Explicit], *, user, route: str, acting_as: str = "") -> list[dict]:
    user_id, username = _user_fields(user)
    username = acting_as or username
    now, request_id = timezone.now(), _request_id()
    entries = []
    for item in explicit:
        for resident_id in item.resident_ids or [None]:
            entries.append(_entry(
                at=now, user_id=user_id, username=username, action=item.action, kind=item.kind,
                resident_id=resident_id, object_ids=item.object_ids, categories=item.categories, bases=item.bases,
                outside_caseload=_outside_caseload(item.bases), request_id=request_id, route=route[:120],
            ))
    return entries


def _request_id() -> str:
    request_id = current_request_id()
    return "" if request_id == "-" else request_id


def _bases(reads: Iterable[_Read], user) -> dict[tuple, list[str]]:
    """For each (grant model, codename, object id) read without its bases (`HELD_THROUGH`): the bases through
    which the user holds it (a query per kind)."""
    wanted: dict[tuple[type, str], set[int]] = defaultdict(set)
    for read in reads:
        if read.grant_key is not None and read.held_through is None:
            model, codename, object_id = read.grant_key
            wanted[(model, codename)].add(object_id)
    found: dict[tuple, list[str]] = {}
    for (model, codename), ids in wanted.items():
        for object_id, bases in grant_bases(user=user, model=model, object_ids=sorted(ids), codename=codename).items():
            found[(model, codename, object_id)] = bases
    return found


def _entries_for_reads(reads: list[_Read], *, user, route: str, acting_as: str = "") -> list[dict]:
    bases = _bases(reads, user)
    unresolved: dict[type, list[int]] = defaultdict(list)
    for read in reads:
        if read.residents is None:
            unresolved[read.model].append(read.object_id)
    resolved = {model: residents_resolve(model, ids) for model, ids in unresolved.items()}
    grouped: dict[tuple[int | None, str], dict[str, set]] = {}
    for read in reads:
        kind = subject_for(read.model).kind
        residents = read.residents if read.residents is not None else resolved[read.model].get(read.object_id, [])
        if read.held_through is not None:
            read_bases = read.held_through
        else:
            read_bases = bases.get(read.grant_key, []) if read.grant_key is not None else [read.basis]
        for resident_id in residents or [None]:
            slot = grouped.setdefault((resident_id, kind), {"ids": set(), "categories": set(), "bases": set()})
            slot["ids"].add(read.object_id)
            slot["categories"].update(read.categories)
            slot["bases"].update(read_bases)
    user_id, username = _user_fields(user)
    username = acting_as or username
    now, request_id = timezone.now(), _request_id()
    return [
        _entry(
            at=now, user_id=user_id, username=username, action=Action.READ, kind=kind, resident_id=resident_id,
            object_ids=sorted(slot["ids"]), categories=sorted(slot["categories"]), bases=sorted(slot["bases"]),
            outside_caseload=_outside_caseload(slot["bases"]), request_id=request_id, route=route[:120],
        )
        for (resident_id, kind), slot in sorted(grouped.items(), key=lambda item: (item[0][0] or 0, item[0][1]))
    ]


_COLUMNS = ("at", "user_id", "username", "action", "kind", "resident_id", "object_ids", "categories", "bases",
            "outside_caseload", "request_id", "route", "changes", "prev_hash", "entry_hash")
_JSON = {"object_ids", "categories", "bases", "changes"}


@functools.cache
def _postgresql_insert() -> str:
    """The INSERT of a JSON array of entries, written once per process (the same text every request)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in _COLUMNS)
    types = ", ".join(f"{quote(c)} {AccessLogEntry._meta.get_field(c).db_type(connection)}" for c in _COLUMNS)
    return (f"INSERT INTO {quote(AccessLogEntry._meta.db_table)} ({columns}) SELECT {columns} "
            f"FROM jsonb_to_recordset(%s::jsonb) AS r({types})")


def _write(entries: list[dict]) -> int:
    """One INSERT, written by hand: the ORM's bulk_create costs more than the database does here.

    On PostgreSQL the rows travel as ONE JSON parameter unpacked by `jsonb_to_recordset` (binding
    hundreds of parameters one by one cost more than the insert itself), written by orjson (a caseload page's
    50 entries: 0.25 ms with `json`, a tenth of that with orjson); elsewhere as a multi-row VALUES.
    """
    if not entries:
        return 0
    if connection.vendor == "postgresql":
        # orjson writes an aware time as ISO 8601 with its offset, what `timestamptz` reads; `json` would
        # turn a dict's non-string keys into strings, and so does OPT_NON_STR_KEYS.
        payload = orjson.dumps(entries, option=orjson.OPT_NON_STR_KEYS).decode()
        with prepared_cursor() as cursor:
            cursor.execute(_postgresql_insert(), [payload])
        return len(entries)
    ops = connection.ops
    table = ops.quote_name(AccessLogEntry._meta.db_table)
    columns = ", ".join(ops.quote_name(c) for c in _COLUMNS)
    row = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
    params: list = []
    for entry in entries:
        for column in _COLUMNS:
            value = entry[column]
            if column in _JSON:
                value = json.dumps(value, ensure_ascii=False, sort_keys=True)
            elif column == "at":
                value = ops.adapt_datetimefield_value(value)
            params.append(value)
    width = len(_COLUMNS)
    for start in range(0, len(entries), 500):
        chunk = entries[start:start + 500]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))}",
                           params[start * width:(start + len(chunk)) * width])
    return len(entries)


def access_log_flush(context: AccessContext, *, user=None, route: str | None = None) -> int:
    """Write what the request disclosed: one INSERT (plus one basis query per kind of grant read)."""
    if is_suspended():
        return 0
    user = user if user is not None else context.actor()
    route = route if route is not None else context.route
    acting_as = context.acting_as
    entries = (_entries_for_reads(list(context.reads.values()), user=user, route=route, acting_as=acting_as)
               if context.reads else [])
    entries += _entries_for_explicit(context.explicit, user=user, route=route, acting_as=acting_as)
    context.reads.clear()
    context.explicit.clear()
    return _write(entries)


def change_entry(*, kind: str, action: str, resident_ids: list[int], object_id, categories: list[str],
                 changes: dict, actor_id: int | None = None) -> int:
    """Insert the entries for one write now, in the caller's transaction (audit/changes.py builds `changes`)."""
    return change_entries([{"kind": kind, "action": action, "resident_ids": resident_ids, "object_id": object_id,
                            "categories": categories, "changes": changes, "actor_id": actor_id}])


def change_entries(writes: list[dict]) -> int:
    """`change_entry` for many writes at once (a bulk insert's rows): one INSERT per 500 entries."""
    if is_suspended() or not writes:
        return 0
    context = _context.get()
    user = context.actor() if context is not None else None
    user_id, username = _user_fields(user)
    if context is not None and context.acting_as:
        username = context.acting_as
    route = context.route if context is not None else ""
    now, request_id = timezone.now(), _request_id()
    entries = []
    for write in writes:
        object_id, action = write["object_id"], write["action"]
        if context is not None and action == Action.CREATE and object_id is not None:
            context.created.add((write["kind"], object_id))
        entries += [
            _entry(at=now, user_id=user_id if user_id is not None else write["actor_id"], username=username,
                   action=action, kind=write["kind"], resident_id=resident_id,
                   object_ids=[object_id] if object_id is not None else [],
                   categories=sorted(set(write["categories"])), bases=[], request_id=request_id,
                   route=route[:120], changes=write["changes"])
            for resident_id in write["resident_ids"] or [None]
        ]
    return _write(entries)
