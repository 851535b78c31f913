"""Audit records: who read or changed what, what went to whom, and what residents asked for.

- `AccessLogEntry`: every read and write of a resident's data. Append-only (a
  PostgreSQL trigger refuses UPDATE and DELETE, migration 0002) and hash-chained:
  an entry is written unchained by the request that made it (one INSERT, no
  lock), then a sealer gives it the next position `seq`, the previous entry's
  hash and its own hash, in commit order, under one lock (`audit/chain.py`).
- `AccessLogCheckpoint`: where retention cut the chain; verification starts there.
- `ProvisionRecord`: the third-party provision log (第三者提供記録), one row per
  recipient × resident × item × basis, written in the transaction that granted access.
- `RightsRequest`: the ledger of disclosure, correction and cessation requests.
- `LegalHold`: stops retention for one case. `RetentionRun`, `Anonymisation`: what retention did.

Residents and users are stored by id in the access log (not foreign keys): the log
outlives what it describes and must never block or be cascaded by a change elsewhere.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Case, Organization, Resident, Ward
from cases.models.audited import AuditedManager
from cases.models.consent import Grantor

ACCESS_LOG_RETENTION = datetime.timedelta(days=3 * 365)
PROVISION_RETENTION = datetime.timedelta(days=3 * 365)
CLOSED_CASE_RETENTION = datetime.timedelta(days=10 * 365)
RIGHTS_DEADLINE = datetime.timedelta(days=30)
RIGHTS_REMINDER_BEFORE = datetime.timedelta(days=7)


class Action(models.TextChoices):
    READ = "read", "閲覧"
    EXPORT = "export", "出力"
    CREATE = "create", "作成"
    UPDATE = "update", "更新"
    DELETE = "delete", "削除"
    ANONYMISE = "anonymise", "匿名化"


class AccessLogEntry(models.Model):
    """One reader (or writer) × one resident × one kind of record, in one request."""

    seq = models.BigIntegerField(null=True, blank=True, unique=True, editable=False,
                                 help_text="Position in the chain; empty until sealed (seconds).")
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    entry_hash = models.CharField(max_length=64, blank=True, editable=False)
    at = models.DateTimeField(default=timezone.now)
    user_id = models.BigIntegerField(null=True, blank=True)
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=12, choices=Action.choices)
    kind = models.CharField(max_length=32, help_text="resident, case, note, visit, consent, disclosure, ...")
    resident_id = models.BigIntegerField(null=True, blank=True)
    object_ids = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    bases = models.JSONField(default=list, blank=True, help_text="Why the reader could see it, e.g. consent:12.")
    outside_caseload = models.BooleanField(
        default=False, help_text="Seen only through a third-party basis (consent, legal basis, meeting, referral)."
    )
    request_id = models.CharField(max_length=64, blank=True)
    route = models.CharField(max_length=120, blank=True, help_text="e.g. 'GET resident-detail', 'task:retention'.")
    changes = models.JSONField(default=dict, blank=True,
                               help_text="Writes: {field: [old, new]} in clear for codes, else keyed digests.")

    class Meta:
        verbose_name_plural = "access log entries"
        indexes = [
            models.Index(fields=["resident_id", "at"], name="audit_entry_resident_at"),
            models.Index(fields=["user_id", "at"], name="audit_entry_user_at"),
            models.Index(fields=["at"], name="audit_entry_at"),
            models.Index(fields=["id"], name="audit_entry_unsealed", condition=Q(seq__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"Access log entry {self.pk}"


class AccessLogHead(models.Model):
    """The chain's last sealed position and hash (one row). Its row lock serialises sealers."""

    seq = models.BigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, blank=True)
    sealed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Chain head at {self.seq}"


class AccessLogCheckpoint(models.Model):
    """Retention removed the entries up to `through_seq`; the chain continues from `entry_hash`.

    Entries at or below `through_seq` that retention kept (a legal hold) are listed in
    `retained` as [id, seq, entry_hash], so they are still checked one by one.
    """

    through_seq = models.BigIntegerField(unique=True)
    entry_hash = models.CharField(max_length=64)
    pruned = models.PositiveIntegerField(default=0)
    retained = models.JSONField(default=list, blank=True)
    cutoff = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Checkpoint through {self.through_seq}"


class ProvisionRecord(models.Model):
    """第三者提供記録: data items of a resident made available to another organisation, and on what basis."""

    provided_at = models.DateTimeField(help_text="From when the recipient could see it.")
    recorded_at = models.DateTimeField(default=timezone.now)
    recipient = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+", db_index=False)
    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+", db_index=False)
    item = models.CharField(max_length=20, help_text="resident, case, note or visit.")
    category = models.CharField(max_length=20)
    basis = models.CharField(max_length=40, help_text="consent:12, APPI27-1-2:7, SWA106-6:3, referral:5 ...")
    basis_code = models.CharField(max_length=16, help_text="consent, APPI27-1-2, SWA106-6, referral ...")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["recipient", "resident", "item", "category", "basis"],
                                    name="provision_once_per_item_and_basis"),
        ]
        indexes = [
            models.Index(fields=["resident", "provided_at"], name="provision_resident_at"),
            models.Index(fields=["recipient", "provided_at"], name="provision_recipient_at"),
            models.Index(fields=["provided_at"], name="provision_at"),
        ]

    def __str__(self) -> str:
        return f"Provision {self.pk}"


class RightsKind(models.TextChoices):
    DISCLOSURE = "disclosure", "開示"
    CORRECTION = "correction", "訂正・追加・削除"
    CESSATION = "cessation", "利用停止・第三者提供の停止"


class IdentityCheck(models.TextChoices):
    PHOTO_ID_IN_PERSON = "photo_id_in_person", "来庁・顔写真付き本人確認書類"
    TWO_DOCUMENTS_IN_PERSON = "two_documents_in_person", "来庁・本人確認書類2点"
    DOCUMENTS_BY_MAIL = "documents_by_mail", "郵送・本人確認書類の写しと住民票"
    PROXY_DOCUMENTS = "proxy_documents", "代理人・委任状または後見登記事項証明書と代理人の本人確認書類"


class RightsStatus(models.TextChoices):
    OPEN = "open", "対応中"
    CLOSED = "closed", "完了"


class RightsOutcome(models.TextChoices):
    DISCLOSED = "disclosed", "開示した"
    PARTLY_DISCLOSED = "partly_disclosed", "一部開示した"
    CORRECTED = "corrected", "訂正した"
    NOT_CORRECTED = "not_corrected", "訂正しなかった"
    CEASED = "ceased", "利用・提供を停止した"
    REFUSED = "refused", "応じなかった"
    WITHDRAWN = "withdrawn", "請求が取り下げられた"


OUTCOMES_FOR = {
    RightsKind.DISCLOSURE: {RightsOutcome.DISCLOSED, RightsOutcome.PARTLY_DISCLOSED, RightsOutcome.REFUSED,
                            RightsOutcome.WITHDRAWN},
    RightsKind.CORRECTION: {RightsOutcome.CORRECTED, RightsOutcome.NOT_CORRECTED, RightsOutcome.WITHDRAWN},
    RightsKind.CESSATION: {RightsOutcome.CEASED, RightsOutcome.REFUSED, RightsOutcome.WITHDRAWN},
}


class RightsRequest(models.Model):
    """A resident's request under APPI (disclosure, correction, cessation), answered within 30 days."""

    resident = models.ForeignKey(Resident, on_delete=models.PROTECT, related_name="+")
    ward = models.ForeignKey(Ward, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=RightsKind.choices)
    requester = models.CharField(max_length=16, choices=Grantor.choices, default=Grantor.SELF)
    proxy_name = models.CharField(max_length=60, blank=True)
    details = models.TextField(max_length=2000, blank=True, help_text="What is to be corrected, stopped ...")
    identity_check = models.CharField(max_length=32, choices=IdentityCheck.choices)
    identity_checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received_at = models.DateTimeField()
    deadline = models.DateTimeField()
    reminder_due_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=RightsStatus.choices, default=RightsStatus.OPEN)
    outcome = models.CharField(max_length=20, choices=RightsOutcome.choices, blank=True)
    outcome_note = models.TextField(max_length=2000, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = AuditedManager()

    class Meta:
        indexes = [
            models.Index(fields=["ward", "status", "deadline"], name="rights_ward_status_deadline"),
            models.Index(fields=["reminder_due_at"], name="rights_reminder_due",
                         condition=Q(status="open", reminded_at__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(deadline__gt=models.F("received_at")), name="rights_deadline_after"),
        ]

    def __str__(self) -> str:
        return f"Rights request {self.pk}"


class LegalHold(models.Model):
    """Retention leaves this case, its resident's access log and provision records alone while the hold lasts."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_at = models.DateTimeField(default=timezone.now)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="+")
    released_at = models.DateTimeField(null=True, blank=True)

    objects = AuditedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case"], condition=Q(released_at__isnull=True),
                                    name="legal_hold_one_active_per_case"),
        ]

    def __str__(self) -> str:
        return f"Legal hold {self.pk} on case {self.case_id}"


class RetentionRun(models.Model):
    """What one retention run removed, anonymised and skipped."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    log_cutoff = models.DateTimeField()
    case_cutoff = models.DateTimeField()
    entries_pruned = models.PositiveIntegerField(default=0)
    entries_retained = models.PositiveIntegerField(default=0)
    checkpoint = models.ForeignKey(AccessLogCheckpoint, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+")
    provisions_purged = models.PositiveIntegerField(default=0)
    cases_anonymised = models.PositiveIntegerField(default=0)
    residents_anonymised = models.PositiveIntegerField(default=0)
    held_cases = models.PositiveIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Retention run {self.pk}"


class Anonymisation(models.Model):
    """A closed case whose free text (and, when it was the resident's last, the resident) was anonymised."""

    case = models.OneToOneField(Case, on_delete=models.PROTECT, related_name="+")
    resident_id = models.BigIntegerField()
    resident_anonymised = models.BooleanField(default=False)
    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="anonymisations")
    anonymised_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Anonymised case {self.case_id}"
