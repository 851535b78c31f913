"""Reads of notes and their versions, through the policy."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.errors import NotFound
from cases.models import (
    Note,
    Organization,
    User,
)
from cases.selectors.names import name_of, rows_template
from permissions.access import scope


def note_rows() -> QuerySet[Note]:
    """Notes with their authors and successor, not yet scoped to a reader."""
    return Note.objects.select_related("author", "author_organization", "superseded_by")


def notes_visible_to(*, user: User, rows: bool = False) -> QuerySet[Note]:
    """The current version of every note the user may read, newest first; with `rows`, as rows of `NOTE_VALUES`
    for a list page to filter and page (cases/selectors/names.py: `rows_template`), each with the bases it is
    read through (`HELD_THROUGH`)."""
    return (
        scope(_note_rows() if rows else note_rows(), user=user, codename="view_note", bases=rows)
        .filter(superseded_by__isnull=True)
        .order_by("-created_at", "-id")
    )


# What a note row shows, as values of one query: the successor joined, the author's and their organisation's
# names by sub-select (cases/selectors/names.py).
NOTE_VALUES = (
    "id", "resident_id", "case_id", "category", "body", "author_id", "author__display_name",
    "author_organization_id", "author_organization__kind", "author_organization__name", "supersedes_id",
    "superseded_by__id", "created_at",
)
# Each shown name as its sub-select, built once (a query resolves its own copy).
_NOTE_NAMES = {
    "author__display_name": name_of(User, "display_name", "author_id"),
    "author_organization__kind": name_of(Organization, "kind", "author_organization_id"),
    "author_organization__name": name_of(Organization, "name", "author_organization_id"),
}


def note_values(notes: QuerySet[Note]) -> QuerySet:
    """The caller's (already scoped and filtered) notes as rows of `NOTE_VALUES`, for a list page."""
    return notes.values(*(field for field in NOTE_VALUES if field not in _NOTE_NAMES), **_NOTE_NAMES)


@rows_template
def _note_rows() -> QuerySet:
    return note_values(Note.objects.all())


def note_get_for_user(*, user: User, note_id: int) -> Note:
    note = scope(
        note_rows().filter(pk=note_id), user=user,
        codename="view_note",
    ).first()
    if note is None:
        raise NotFound()
    return note


def note_history_for_user(*, user: User, note: Note) -> QuerySet[Note]:
    """Every version of a note, oldest first, as far as the user may read them (a queryset: the API pages it)."""
    ids = [note.id]
    cursor = note
    while cursor.supersedes_id:
        ids.append(cursor.supersedes_id)
        cursor = Note.objects.only("id", "supersedes_id").get(pk=cursor.supersedes_id)
    later = Note.objects.filter(supersedes_id=note.id).values_list("id", flat=True).first()
    while later:
        ids.append(later)
        later = Note.objects.filter(supersedes_id=later).values_list("id", flat=True).first()
    return scope(note_rows().filter(id__in=ids), user=user, codename="view_note").order_by("created_at", "id")
