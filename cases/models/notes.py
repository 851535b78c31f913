"""Notes: categorised, never edited in place. An amendment is a new version pointing at the old."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from cases.models.audited import AuditedManager
from cases.models.cases import Case
from cases.models.consent import Category
from cases.models.directory import Organization
from cases.models.residents import Resident


class Note(models.Model):
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="notes", db_index=False)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="notes", db_index=False
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    body = models.TextField(max_length=8000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notes")
    author_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="notes")
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditedManager()

    class Meta:
        indexes = [models.Index(fields=["case", "-created_at", "-id"]), models.Index(fields=["resident", "category"])]

    def __str__(self) -> str:
        return f"Note {self.pk}"
