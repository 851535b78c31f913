"""Organisation API clients: a machine that acts for one organisation, within the scopes it was given.

A client is registered by an org admin of its organisation. It authenticates with a prefixed key
(`mmc_<key id>_<secret>`); only a SHA-256 of each secret is stored. A client holds at most two valid
secrets at once (during a rotation: the new one, and the previous one until its overlap ends), and a
revoked client or secret stops at the next request. Each client has its own account (`user`, never a
member of anything), under which its reads are access-logged and its writes are authored.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Organization


class OrganizationClient(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="api_clients", db_index=False)
    name = models.CharField(max_length=100)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client",
                                editable=False, help_text="The client's own account: author of what it writes.")
    scopes = models.JSONField(default=list, help_text="Route groups it may call (integrations/scopes.py).")
    purposes = models.JSONField(default=list, help_text="Purposes it may declare for a request (consent purposes).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "-created_at"], name="client_org_created")]

    def __str__(self) -> str:
        return f"API client {self.pk}"


class ClientSecret(models.Model):
    """One secret of a client. Valid from its creation until `expires_at` (a rotation's overlap) or revocation."""

    client = models.ForeignKey(OrganizationClient, on_delete=models.CASCADE, related_name="secrets")
    key_id = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until the next rotation or revocation.")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["client"], name="client_secret_live", condition=Q(revoked_at__isnull=True))]

    def __str__(self) -> str:
        return f"Client secret {self.key_id}"

    def valid_at(self, now) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class EventType(models.TextChoices):
    REFERRAL_RECEIVED = "referral.received", "つなぎを受けた"
    REFERRAL_CHANGED = "referral.changed", "つなぎの状態が変わった"
    TASK_ASSIGNED = "task.assigned", "タスクが割り当てられた"
    TASK_ESCALATED = "task.escalated", "タスクがエスカレーションされた"
    TASK_REMINDER = "task.reminder", "タスクの督促"
    TASK_CHANGED = "task.changed", "タスクの状態が変わった"
    CONSENT_CHANGED = "consent.changed", "保有する住民の同意が変わった"
    PARTNER_REPORT_ROUTED = "partner_report.routed", "協定先からの通報が振り分けられた"
    HEARTBEAT = "heartbeat", "生存確認"


class EventCounter(models.Model):
    """The last sequence number given to an organisation's events. Its row lock, held until the writer's
    commit, makes the sequence gap-free and visible in order."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, primary_key=True,
                                        related_name="+")
    last_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Event counter of organisation {self.organization_id}"


class SweepMark(models.Model):
    """How far a periodic sweep has looked (e.g. consent periods that started or ended up to `until`)."""

    name = models.CharField(max_length=40, primary_key=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"Sweep {self.name}"


class Event(models.Model):
    """Something an organisation is told about, by id and type only (never personal data)."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    sequence = models.BigIntegerField()
    key = models.CharField(max_length=200, unique=True, help_text="The change and the organisation: written once.")
    type = models.CharField(max_length=40, choices=EventType.choices)
    subject_type = models.CharField(max_length=20)
    subject_id = models.BigIntegerField()
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "sequence"], name="event_org_sequence")]
        indexes = [models.Index(fields=["organization", "occurred_at"], name="event_org_occurred")]

    def __str__(self) -> str:
        return f"Event {self.pk}"

    @property
    def webhook_id(self) -> str:
        return f"evt_{self.organization_id}_{self.sequence}"


class EndpointStatus(models.TextChoices):
    ACTIVE = "active", "有効"
    PAUSED = "paused", "一時停止"
    DISABLED = "disabled", "無効"


class WebhookEndpoint(models.Model):
    """An organisation's receiver for some event types. Deliveries to it go in event order, one at a time;
    a failure backs off this endpoint only (`next_attempt_at`), never another."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="webhook_endpoints")
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=80, help_text="whsec_…: signs every delivery (Standard Webhooks).")
    previous_secret = models.CharField(max_length=80, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True,
                                                 help_text="Until then deliveries carry both signatures.")
    status = models.CharField(max_length=10, choices=EndpointStatus.choices, default=EndpointStatus.ACTIVE)
    disabled_reason = models.CharField(max_length=40, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Backing off until then.")
    lease_until = models.DateTimeField(null=True, blank=True, help_text="A worker is sending to it until then.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Webhook endpoint {self.pk}"


class WebhookDelivery(models.Model):
    """One event to one endpoint: sent until the receiver answers 2xx (or the endpoint is disabled)."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="+")
    sequence = models.BigIntegerField(help_text="The event's: deliveries to an endpoint go in this order.")
    created_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="A send started then, not known to end.")
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")]
        indexes = [models.Index(fields=["endpoint", "sequence"], name="delivery_pending",
                                condition=Q(delivered_at__isnull=True))]

    def __str__(self) -> str:
        return f"Webhook delivery {self.pk}"


class WebhookAttempt(models.Model):
    """The delivery log: each send, its answer's status and a short excerpt (the receiver's words)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(default=timezone.now)
    status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty: no answer (see error).")
    error = models.CharField(max_length=60, blank=True, help_text="timeout, connection_refused, target_refused …")
    excerpt = models.CharField(max_length=200, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"Webhook attempt {self.pk}"
