"""Retention: what is past its period goes, unless a legal hold keeps it. Run daily by Celery beat.

- Access log, 3 years. Entries cannot be deleted one by one without breaking the
  chain, so retention cuts a *prefix*: it seals what is pending, verifies the
  chain up to the cut, writes a checkpoint (the position and hash of the last
  entry cut, and the entries kept under a legal hold with their hashes), then
  deletes the prefix. `audit_verify` starts from the latest checkpoint and still
  checks every kept entry. The database trigger allows exactly these deletes
  (at or below a checkpoint, older than three years).
- Provision records, 3 years from the provision (APPI: keep for 3 years).
- Closed cases, 10 years after closing: the case's free text, its notes and
  visit notes are anonymised; when it was the resident's last case, the resident
  too (name, birth date to the year, address to the town, phone, special care).
  Notes are otherwise never edited; anonymisation is the one exception, logged
  as change entries like any other write.
- A legal hold on a case stops all of this for the case and its resident.

Each run is recorded (`RetentionRun`) and logged.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from audit.access_log import change_entry
from audit.chain import access_log_seal, entry_digest
from audit.changes import digest
from audit.legal_holds import held_case_ids, held_resident_ids
from audit.models import (
    ACCESS_LOG_RETENTION,
    CLOSED_CASE_RETENTION,
    PROVISION_RETENTION,
    AccessLogCheckpoint,
    AccessLogEntry,
    Action,
    Anonymisation,
    ProvisionRecord,
    RetentionRun,
)
from cases.kana import kana_normalize
from cases.models import Case, Consent, LegalBasisGrant, Note, Resident, Visit
from cases.models.audited import bulk_writes_permitted
from cases.models.choices import CaseStatus

logger = logging.getLogger("audit.retention")

ANONYMISED = "（匿名化済み）"
ANONYMOUS_NAME, ANONYMOUS_KANA = "匿名", "トクメイ"
CASE_BATCH = 200


def _prune_access_log(run: RetentionRun, cutoff: datetime.datetime) -> None:
    access_log_seal()
    last = AccessLogCheckpoint.objects.order_by("-through_seq").first()
    start = last.through_seq if last else 0
    first_young = AccessLogEntry.objects.filter(seq__gt=start, at__gte=cutoff).order_by("seq").values_list(
        "seq", flat=True).first()
    through = (first_young - 1) if first_young else (
        AccessLogEntry.objects.filter(seq__gt=start).aggregate(m=Max("seq"))["m"] or start)
    if through <= start:
        return
    previous = last.entry_hash if last else ""
    expected = start + 1
    for entry in AccessLogEntry.objects.filter(seq__gt=start, seq__lte=through).order_by("seq").iterator(2000):
        if entry.seq != expected or entry.prev_hash != previous or entry_digest(entry) != entry.entry_hash:
            run.problems.append(f"access log not pruned: chain broken at entry id {entry.id} (position {entry.seq})")
            logger.error("retention: access log chain broken at entry %s; nothing pruned", entry.id)
            return
        previous, expected = entry.entry_hash, entry.seq + 1
    if expected != through + 1:
        run.problems.append(f"access log not pruned: positions {expected}–{through} missing")
        return
    held = AccessLogEntry.objects.filter(seq__lte=through, resident_id__in=held_resident_ids())
    retained = [[e.id, e.seq, e.entry_hash] for e in held.order_by("seq").only("id", "seq", "entry_hash")]
    removable = AccessLogEntry.objects.filter(seq__lte=through).exclude(id__in=[r[0] for r in retained])
    with transaction.atomic():
        checkpoint = AccessLogCheckpoint.objects.create(
            through_seq=through, entry_hash=previous, retained=retained, cutoff=cutoff, pruned=removable.count())
        pruned, _ = removable.delete()
    run.checkpoint, run.entries_pruned, run.entries_retained = checkpoint, pruned, len(retained)


def _purge_provisions(run: RetentionRun, cutoff: datetime.datetime) -> None:
    old = ProvisionRecord.objects.filter(provided_at__lt=cutoff).exclude(resident_id__in=held_resident_ids())
    run.provisions_purged, _ = old.delete()


def _anonymise_resident(resident: Resident) -> dict:
    changes = {
        "name_kanji": ANONYMOUS_NAME, "name_kana": ANONYMOUS_KANA, "name_kana_key": kana_normalize(ANONYMOUS_KANA),
        "date_of_birth": resident.date_of_birth.replace(month=1, day=1),
        "postal_code": resident.postal_code[:3] + "0000", "block_number": "0", "building": "", "room": "",
        "phone": "", "special_care": [],
    }
    with bulk_writes_permitted():  # recorded by the caller's one `anonymise` entry, not an update entry per row
        Resident.objects.filter(pk=resident.pk).update(**changes, updated_at=timezone.now(),
                                                       version=F("version") + 1)
        Consent.objects.filter(resident=resident).update(proxy_name="", evidence="", withdrawal_note="")
        LegalBasisGrant.objects.filter(resident=resident).update(justification=ANONYMISED, review_note="")
        Note.objects.filter(resident=resident, case__isnull=True).update(body=ANONYMISED)
    return {name: [digest(getattr(resident, name)), digest(value) if value not in ("", []) else value]
            for name, value in changes.items() if name != "name_kana_key"}


def _anonymise_case(case: Case, run: RetentionRun) -> bool:
    """Anonymise one closed case (and its resident when no other case of theirs is still kept)."""
    with transaction.atomic():
        if Anonymisation.objects.filter(case=case).exists():
            return False
        with bulk_writes_permitted():  # recorded by the one `anonymise` entry below, not an update entry per row
            Case.objects.filter(pk=case.pk).update(concern=ANONYMISED, updated_at=timezone.now(),
                                                   version=F("version") + 1)
            notes = Note.objects.filter(case=case).update(body=ANONYMISED)
            visits = Visit.objects.filter(case=case).exclude(note="").update(note="")
        change_entry(kind="case", action=Action.ANONYMISE, resident_ids=[case.resident_id], object_id=case.pk,
                     categories=["basic"], changes={"concern": [digest(case.concern), ANONYMISED],
                                                    "notes": [notes, notes], "visit_notes": [visits, visits]})
        others_kept = Case.objects.filter(resident_id=case.resident_id).exclude(pk=case.pk).filter(
            ~Q(status=CaseStatus.CLOSED) | Q(closed_at__gte=run.case_cutoff) | Q(id__in=held_case_ids())).exists()
        resident_done = False
        if not others_kept:
            resident = Resident.objects.get(pk=case.resident_id)
            changes = _anonymise_resident(resident)
            change_entry(kind="resident", action=Action.ANONYMISE, resident_ids=[resident.id], object_id=resident.id,
                         categories=["basic"], changes=changes)
            resident_done = True
        Anonymisation.objects.create(case=case, resident_id=case.resident_id, resident_anonymised=resident_done,
                                     run=run)
    return resident_done


def _anonymise_closed_cases(run: RetentionRun) -> None:
    due = Case.objects.filter(status=CaseStatus.CLOSED, closed_at__lt=run.case_cutoff) \
        .exclude(id__in=Anonymisation.objects.values("case_id"))
    run.held_cases = due.filter(id__in=held_case_ids()).count()
    for case in due.exclude(id__in=held_case_ids()).order_by("id")[:CASE_BATCH]:
        resident_done = _anonymise_case(case, run)
        run.cases_anonymised += 1
        run.residents_anonymised += int(resident_done)


def retention_run(*, now: datetime.datetime | None = None) -> RetentionRun:
    """Apply every retention period once; safe to run twice (the second run finds nothing)."""
    now = now or timezone.now()
    run = RetentionRun.objects.create(started_at=now, log_cutoff=now - ACCESS_LOG_RETENTION,
                                      case_cutoff=now - CLOSED_CASE_RETENTION)
    _prune_access_log(run, run.log_cutoff)
    _purge_provisions(run, now - PROVISION_RETENTION)
    _anonymise_closed_cases(run)
    run.finished_at = timezone.now()
    run.save()
    logger.info(
        "retention run %s: %s access-log entries pruned (%s kept under legal hold), %s provision records purged, "
        "%s cases and %s residents anonymised, %s cases held, problems: %s",
        run.pk, run.entries_pruned, run.entries_retained, run.provisions_purged, run.cases_anonymised,
        run.residents_anonymised, run.held_cases, len(run.problems))
    return run
