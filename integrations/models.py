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
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="api_clients")
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
