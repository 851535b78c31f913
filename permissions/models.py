"""Materialised object permissions (django-guardian direct-foreign-key tables).

Rows here are derived data: only `permissions.grants` writes them, and
`manage.py permissions_rebuild` can recompute every row from the sources of
truth (district assignments, case teams, registrations, consent, legal bases).

Group rows carry the window in which they hold (`valid_from` ≤ now <
`valid_until`): a consent period or a break-glass grant ends on time with no
worker running, because every read checks the window. Open ends are stored as
far-past / far-future sentinels so the uniqueness constraint holds on every
database.
"""

import datetime

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.models import Case, EvacuationListEntry, Note, Resident, Visit

ALWAYS_FROM = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
FOREVER = datetime.datetime(9999, 12, 31, tzinfo=datetime.UTC)


class WindowedGroupObjectPermission(GroupObjectPermissionBase):
    """A group's permission on one record within a window.

    Its foreign keys have no index of their own: the uniqueness constraint's index leads with the group, each
    table's `(content_object, group, permission)` index with the record, and a grant table has one or two
    permissions. PostgreSQL weighs every index of a table each time it plans a query that reads it, and writes
    every one with each grant; the three single-column indexes served no query the other two do not (a five-row
    INSERT into the city's visit grants took 0.25 ms with them, 0.165 ms without two of them)."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    permission = models.ForeignKey(Permission, on_delete=models.CASCADE, db_index=False)
    valid_from = models.DateTimeField(default=ALWAYS_FROM)
    valid_until = models.DateTimeField(default=FOREVER)
    basis = models.CharField(max_length=40, default="", help_text="Why this grant exists, e.g. consent:12.")

    class Meta:
        abstract = True
        unique_together = ["group", "permission", "content_object", "valid_from", "valid_until", "basis"]


class UserGrant(UserObjectPermissionBase):
    """A user's permission on one record; its uniqueness constraint's index leads with the user (as above)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = True


class ResidentUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Resident, on_delete=models.CASCADE)


class ResidentGroupObjectPermission(WindowedGroupObjectPermission):
    content_object = models.ForeignKey(Resident, on_delete=models.CASCADE, db_index=False)

    class Meta(WindowedGroupObjectPermission.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]


class CaseUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(WindowedGroupObjectPermission):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE, db_index=False)

    class Meta(WindowedGroupObjectPermission.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]


class NoteUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Note, on_delete=models.CASCADE)


class NoteGroupObjectPermission(WindowedGroupObjectPermission):
    content_object = models.ForeignKey(Note, on_delete=models.CASCADE, db_index=False)

    class Meta(WindowedGroupObjectPermission.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]


class VisitUserObjectPermission(UserGrant):
    content_object = models.ForeignKey(Visit, on_delete=models.CASCADE)


class VisitGroupObjectPermission(WindowedGroupObjectPermission):
    content_object = models.ForeignKey(Visit, on_delete=models.CASCADE, db_index=False)

    class Meta(WindowedGroupObjectPermission.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]


class EvacuationEntryGroupObjectPermission(WindowedGroupObjectPermission):
    """Who sees an evacuation-list entry (view_evacuationlistentry) and its plan (view_evacuation_plan)."""

    content_object = models.ForeignKey(EvacuationListEntry, on_delete=models.CASCADE, db_index=False)

    class Meta(WindowedGroupObjectPermission.Meta):
        indexes = [models.Index(fields=["content_object", "group", "permission"])]
