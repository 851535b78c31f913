"""API conventions that need storage: personal API tokens and idempotency records."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ApiToken(models.Model):
    """A personal API token. Only a SHA-256 of the secret is stored; the token is shown once.

    Format: ``mmr_<key_id>_<secret>``. The ``mmr_`` prefix makes a leaked token
    easy to find with secret scanners; ``key_id`` finds the row without a scan.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_id = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"mmr_{self.key_id}_… ({self.name})"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class IdempotencyRecord(models.Model):
    """What a POST made with an Idempotency-Key did: its status, headers and the record it acted on.

    No body is kept: a replay reads the record again through the read side (api/idempotency.py), so it
    shows only what the caller may see now, and is access-logged like any read.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    subject_id = models.BigIntegerField(null=True, blank=True, help_text="The record the answer showed.")
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"idempotency record {self.pk}"
