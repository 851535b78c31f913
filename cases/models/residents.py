"""The resident (対象者): a person the network watches over."""

from django.db import models
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.choices import HouseholdType, Language
from cases.models.directory import District, Organization


class Resident(models.Model):
    name_kanji = models.CharField(max_length=60)
    name_kana = models.CharField(max_length=60, help_text="Reading as entered (kana).")
    name_kana_key = models.CharField(max_length=60, db_index=True, editable=False)
    date_of_birth = models.DateField()

    postal_code = models.CharField(max_length=7, help_text="Seven digits, no hyphen.")
    prefecture = models.CharField(max_length=10, default="神奈川県")
    municipality = models.CharField(max_length=30, default="川崎市多摩区")
    town = models.CharField(max_length=40, help_text="Town (町名), e.g. 登戸.")
    chome = models.PositiveSmallIntegerField(null=True, blank=True)
    block_number = models.CharField(max_length=20, help_text="番地・号, e.g. 2-15.")
    building = models.CharField(max_length=60, blank=True)
    room = models.CharField(max_length=20, blank=True)
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="residents", db_index=False)
    address_key = models.CharField(
        max_length=120, blank=True, db_index=True, editable=False,
        help_text="The dwelling's normalised house address (cases/addresses.py), kept in step by the services.")
    room_key = models.CharField(max_length=20, blank=True, editable=False, help_text="The normalised room.")

    household_type = models.CharField(max_length=32, choices=HouseholdType.choices)
    phone = models.CharField(max_length=20, blank=True)
    preferred_language = models.CharField(max_length=8, choices=Language.choices, default=Language.JA)
    interpreter_needed = models.BooleanField(default=False)
    special_care = models.JSONField(default=list, blank=True)
    do_not_contact = models.BooleanField(
        default=False, help_text="Never knock, never call the household (e.g. domestic-violence risk)."
    )

    registered_by = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="registered_residents")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = AuditedManager()

    class Meta:
        indexes = [
            models.Index(fields=["district", "id"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["postal_code"]),
        ]

    def __str__(self) -> str:
        return f"Resident {self.pk}"
