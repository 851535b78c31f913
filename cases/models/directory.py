"""Who works here: users, organisations, the district hierarchy and memberships.

A welfare commissioner's access follows their district assignment and ends with
their term; every other member's access follows their organisation's case teams.
"""

import uuid

from django.contrib.auth.models import AbstractUser, Group
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cases.models.choices import Field, OrganizationKind, Role
from cases.usernames import username_normalize


class UserManager(DjangoUserManager):
    def get_by_natural_key(self, username):
        """Every log-in looks the account up by its normalised name: ｓａｔｏ and SATO find sato."""
        return super().get_by_natural_key(self.model.normalize_username(username))


class User(AbstractUser):
    """An account. Authorisation never reads `is_staff` for data: only memberships count.

    The user name is stored normalised (`cases.usernames`), so the unique index on it is unique per
    account however the name is typed."""

    display_name = models.CharField(max_length=100, blank=True)

    objects = UserManager()

    class Meta:
        db_table = "cases_user"

    @classmethod
    def normalize_username(cls, username):
        return username_normalize(username) if isinstance(username, str) else username

    def save(self, *args, **kwargs):
        self.username = self.normalize_username(self.username)
        super().save(*args, **kwargs)


class Ward(models.Model):
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class CouncilArea(models.Model):
    """A district council area (地区民児協)."""

    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="council_areas")
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=50)
    council = models.ForeignKey(
        "Organization", on_delete=models.PROTECT, null=True, blank=True, related_name="council_areas",
        help_text="The commissioner council organisation of this area (consent may name it as a recipient).",
    )

    def __str__(self) -> str:
        return self.name


class District(models.Model):
    """A commissioner district (担当区域): ~220-440 households."""

    council_area = models.ForeignKey(CouncilArea, on_delete=models.PROTECT, related_name="districts")
    code = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=80)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="district", editable=False)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs) -> None:
        if not self.group_id:
            self.group, _ = Group.objects.get_or_create(name=f"district:{self.code}")
        super().save(*args, **kwargs)


class Organization(models.Model):
    kind = models.CharField(max_length=32, choices=OrganizationKind.choices)
    name = models.CharField(max_length=100)
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="organizations", db_index=False)
    fields = models.JSONField(default=list, blank=True, help_text="Fields served (Field codes).")
    requires_grant_approval = models.BooleanField(
        default=False, help_text="Legal-basis grants requested by members need a supervisor's approval."
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organization", editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["ward", "name"], name="organization_unique_name_in_ward")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if not self.group_id:
            self.group = Group.objects.create(name=f"org:{uuid.uuid4().hex}")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        unknown = set(self.fields or []) - set(Field.values)
        if unknown:
            raise ValidationError({"fields": _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}})


class MembershipQuerySet(models.QuerySet):
    def active(self, at=None):
        at = at or timezone.now()
        return self.filter(Q(valid_from__lte=at), Q(valid_until__isnull=True) | Q(valid_until__gt=at))


class Membership(models.Model):
    """A user's role in an organisation for a period. Access ends when `valid_until` passes."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True, help_text="A commissioner's term end.")

    objects = MembershipQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["user", "valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gt=models.F("valid_from")),
                name="membership_period_ordered",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class DistrictAssignment(models.Model):
    """A commissioner membership covers one or more districts, for the membership's term."""

    membership = models.ForeignKey(
        Membership, on_delete=models.CASCADE, related_name="district_assignments", db_index=False
    )
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="assignments")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "district"], name="district_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.membership.user} → {self.district}"
