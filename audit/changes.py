"""Change entries: every write to a resident's records says what changed, in the same transaction.

Saves and deletes of the models in `audit.subjects.SUBJECTS` are caught by model
signals (create, `save()`, delete). Writes that bypass signals cannot skip their
entries: on those models `QuerySet.update()`, `bulk_create()` and `bulk_update()`
refuse (`cases.models.audited`) except inside the helpers here, which record what
they write — `changes_update` (a conditional update of one row, or every row of
a queryset), `changes_create` (a bulk insert) — and `seed_create` (synthetic seed
data, written by nobody: no entries). What is not a field of the row (a case's
team) is recorded with `changes_record`. ADR 0022.

Codes, dates, ids and flags appear as [old, new]; every other field (names,
addresses, phone numbers, note bodies) as keyed digests ("hmac:…"), so the log
shows that a value changed without holding it. The digest is an HMAC with the
SECRET_KEY, so a short value (a birth date) cannot be found by trying candidates.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models, transaction
from django.db.models.expressions import Combinable
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils.crypto import salted_hmac

from audit.access_log import change_entries, change_entry
from audit.models import AccessLogEntry, Action, ProvisionRecord
from audit.subjects import SUBJECTS, UNTRACKED, Subject, residents_resolve, subject_for
from audit.switch import is_suspended
from cases.models import Consent
from cases.models.audited import bulk_writes_permitted

_OLD = "_audit_old_values"


def digest(value) -> str:
    return "hmac:" + salted_hmac("audit.change", str(value)).hexdigest()[:32]


def _plain(value):
    if isinstance(value, datetime.datetime | datetime.date | datetime.time | uuid.UUID | decimal.Decimal):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if isinstance(value, float):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, models.Model):
        return value.pk
    return value


def _shown(subject: Subject, name: str, value):
    if value is None or value == "" or value == []:
        return _plain(value)
    return _plain(value) if name in subject.clear else digest(_plain(value))


def _tracked(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if f.name not in UNTRACKED and not f.generated]


def _values(instance, fields) -> dict:
    return {f.name: getattr(instance, f.attname) for f in fields}


def _diff(subject: Subject, old: dict, new: dict) -> dict:
    return {
        name: [_shown(subject, name, old.get(name)), _shown(subject, name, value)]
        for name, value in sorted(new.items())
        if _plain(old.get(name)) != _plain(value)
    }


def _residents(subject: Subject, instance) -> list[int]:
    residents = subject.residents(instance)
    if residents is None:
        residents = residents_resolve(type(instance), [instance.pk]).get(instance.pk, [])
    return residents


def _write(subject: Subject, instance, action: str, changes: dict) -> None:
    actor_id = getattr(instance, f"{subject.actor}_id", None) if subject.actor else None
    change_entry(kind=subject.kind, action=action, resident_ids=_residents(subject, instance), object_id=instance.pk,
                 categories=subject.category(instance), changes=changes, actor_id=actor_id)


def _change(*, model, obj, new: dict, old: dict | None, action: str) -> dict | None:
    """The entry a write that bypassed the signals owes (for `change_entries`), or None when nothing changed."""
    subject = subject_for(model)
    if subject is None or is_suspended():
        return None
    new = {name: value for name, value in new.items() if name not in UNTRACKED and not isinstance(value, Combinable)}
    new = {(name[:-3] if name.endswith("_id") and hasattr(obj, name[:-3]) else name): value
           for name, value in new.items()}
    if old is None:
        old = {}
        for name in new:
            field = next((f for f in model._meta.concrete_fields if f.name == name), None)
            old[name] = getattr(obj, field.attname if field is not None else name, None)
    new = {name: (value.pk if isinstance(value, models.Model) else value) for name, value in new.items()}
    changes = _diff(subject, old, new)
    if not changes:
        return None
    return {"kind": subject.kind, "action": action, "resident_ids": _residents(subject, obj), "object_id": obj.pk,
            "categories": subject.category(obj), "changes": changes,
            "actor_id": getattr(obj, f"{subject.actor}_id", None) if subject.actor else None}


def changes_record(*, model, obj, new: dict, old: dict | None = None, action: str = Action.UPDATE) -> None:
    """A change the signals cannot see (a case's team, a consent's recipients): `new` holds the changed fields,
    `old` defaults to `obj`'s values. A bulk write goes through `changes_update`/`changes_create` instead."""
    change = _change(model=model, obj=obj, new=new, old=old, action=action)
    if change is not None:
        change_entries([change])


def changes_update(queryset: models.QuerySet, changes: dict, *, obj=None, old: dict | None = None) -> int:
    """The one UPDATE of an audited model's rows, with their change entries in the same transaction.

    With `obj`: a conditional update of that one row (`queryset` says the condition, e.g. its status; the row's
    pk is added here); 1 if it changed, 0 if the condition no longer held (somebody acted first). Its entry
    compares `changes` with `obj`'s values as the caller read them (or `old`).
    Without: every row of `queryset`, locked and read first, each with its own entry; returns how many.
    """
    model = queryset.model
    with transaction.atomic(), bulk_writes_permitted():
        if obj is not None:
            updated = queryset.filter(pk=obj.pk).update(**changes)
            if updated:
                changes_record(model=model, obj=obj, new=changes, old=old)
            return updated
        rows = list(queryset.select_for_update().order_by("pk"))
        if not rows:
            return 0
        updated = model.objects.filter(pk__in=[row.pk for row in rows]).update(**changes)
        change_entries([change for row in rows
                        if (change := _change(model=model, obj=row, new=changes, old=None, action=Action.UPDATE))])
        return updated


def changes_create(model, objs, *, key: tuple[str, ...] = (), **options) -> list:
    """The one bulk INSERT of an audited model's rows, with a create entry per row inserted (one INSERT of
    entries per 500 rows). Returns the rows inserted.

    With `ignore_conflicts=True` the database does not say which rows it inserted: `key` (the attnames of a
    unique constraint, the most selective first) finds them — the rows whose key was not there before.
    """
    objs = list(objs)
    if not objs:
        return []
    with transaction.atomic(), bulk_writes_permitted():
        if options.get("ignore_conflicts"):
            if not key:
                raise ValueError("changes_create with ignore_conflicts needs the unique key of the rows")
            keys = {tuple(getattr(o, name) for name in key) for o in objs}

            def present() -> dict[tuple, int]:
                found: dict[tuple, int] = {}
                firsts = sorted({k[0] for k in keys})
                for start in range(0, len(firsts), 5000):
                    for *values, pk in model.objects.filter(**{f"{key[0]}__in": firsts[start:start + 5000]}) \
                            .values_list(*key, "pk"):
                        if tuple(values) in keys:
                            found[tuple(values)] = pk
                return found

            before = present()
            model.objects.bulk_create(objs, **options)
            after = present()
            created = []
            for o in objs:
                k = tuple(getattr(o, name) for name in key)
                if k in after and k not in before:
                    o.pk = after[k]
                    created.append(o)
        else:
            created = model.objects.bulk_create(objs, **options)
        subject = SUBJECTS.get(model)
        if subject is not None and not is_suspended():
            fields = _tracked(model)
            change_entries([
                {"kind": subject.kind, "action": Action.CREATE, "resident_ids": _residents(subject, o),
                 "object_id": o.pk, "categories": subject.category(o),
                 "changes": _diff(subject, {}, _values(o, fields)),
                 "actor_id": getattr(o, f"{subject.actor}_id", None) if subject.actor else None}
                for o in created
            ])
    return created


def _remember(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if raw or is_suspended() or instance._state.adding or instance.pk is None:
        return
    fields = _tracked(sender)
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    old = sender.objects.filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    if old is not None:
        by_attname = {f.attname: f.name for f in fields}
        setattr(instance, _OLD, {by_attname[k]: v for k, v in old.items()})


def _saved(sender, instance, created, raw=False, update_fields=None, **kwargs) -> None:
    if raw or is_suspended():
        return
    subject = SUBJECTS[sender]
    fields = _tracked(sender)
    if created:
        _write(subject, instance, Action.CREATE, _diff(subject, {}, _values(instance, fields)))
        return
    old = instance.__dict__.pop(_OLD, None)
    if old is None:
        return
    changes = _diff(subject, old, _values(instance, [f for f in fields if f.name in old]))
    if changes:
        _write(subject, instance, Action.UPDATE, changes)


def _deleted(sender, instance, **kwargs) -> None:
    if is_suspended():
        return
    subject = SUBJECTS[sender]
    old = _values(instance, _tracked(sender))
    _write(subject, instance, Action.DELETE, {name: [_shown(subject, name, value), None]
                                              for name, value in sorted(old.items())})


def _consent_recipients(sender, instance, action, pk_set, **kwargs) -> None:
    if is_suspended() or action not in ("post_add", "post_remove") or not pk_set or not isinstance(instance, Consent):
        return
    current = sorted(instance.recipient_organizations.values_list("id", flat=True))
    before = sorted(set(current) - pk_set) if action == "post_add" else sorted(set(current) | pk_set)
    changes_record(model=Consent, obj=instance, old={"recipient_organizations": before},
                   new={"recipient_organizations": current})


def connect() -> None:
    for model in SUBJECTS:
        if model in (AccessLogEntry, ProvisionRecord):  # logs themselves: append-only, never "changed"
            continue
        uid = f"audit:{model._meta.label}"
        pre_save.connect(_remember, sender=model, dispatch_uid=f"{uid}:pre")
        post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}:post")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}:delete")
    m2m_changed.connect(_consent_recipients, sender=Consent.recipient_organizations.through,
                        dispatch_uid="audit:consent-recipients")
