"""Materialised object permissions (django-guardian direct-foreign-key tables).

Rows here are derived data: only `permissions.grants` writes them, and
`manage.py permissions_rebuild` can recompute every row from the sources of
truth (district assignments, case teams, registrations).
"""

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from cases.models import Case, Resident


class ResidentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Resident, on_delete=models.CASCADE)


class ResidentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Resident, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission", "content_object"])]


class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Case, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["group", "permission", "content_object"])]
