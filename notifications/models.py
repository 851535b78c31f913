"""The transactional outbox and the in-app notifications it delivers.

An `OutboxMessage` is written in the same transaction as the state change it
announces, so it exists if and only if the change committed. Delivery happens
after commit (a Celery task, and a beat sweep for anything still undelivered),
marks the row delivered with a conditional update, and creates at most one
`Notification` per message (its `key` is unique); an e-mail row is claimed
(`claimed_at`) and marked sent in two short transactions around its one send.
Messages carry ids and a link, never personal data.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Channel(models.TextChoices):
    IN_APP = "in_app", "アプリ内"
    EMAIL = "email", "メール"


class OutboxMessage(models.Model):
    key = models.CharField(max_length=160, unique=True, help_text="One message per reason, recipient and channel.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=40)
    subject_type = models.CharField(max_length=20, help_text="task or referral.")
    subject_id = models.BigIntegerField()
    link = models.CharField(max_length=200)
    urgent = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now, help_text="Not before then (retry back-off).")
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="E-mail: a send started then and is not known to have finished.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["available_at", "id"], name="outbox_undelivered",
                         condition=Q(delivered_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return self.key


class Notification(models.Model):
    """What a user sees in the app: an event about a task or referral, by id, with a link."""

    key = models.CharField(max_length=160, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    event = models.CharField(max_length=40)
    subject_type = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    link = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at", "-id"])]

    def __str__(self) -> str:
        return f"Notification {self.pk}"
