"""Change entries: every write to a resident's records says what changed, in the same transaction.

Saves and deletes of the models in `audit.subjects.SUBJECTS` are caught by model
signals (create, `save()`, delete); writes that bypass signals — the conditional
`UPDATE … WHERE version = n` every update goes through, and team changes — call
`changes_record` explicitly (cases/services/acting.py, cases/services/cases.py).

Codes, dates, ids and flags appear as [old, new]; every other field (names,
addresses, phone numbers, note bodies) as keyed digests ("hmac:…"), so the log
shows that a value changed without holding it. The digest is an HMAC with the
SECRET_KEY, so a short value (a birth date) cannot be found by trying candidates.
"""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.db import models
from django.db.models.expressions import Combinable
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.utils.crypto import salted_hmac

from audit.access_log import change_entry
from audit.models import AccessLogEntry, Action, ProvisionRecord
from audit.subjects import SUBJECTS, UNTRACKED, Subject, residents_resolve, subject_for
from audit.switch import is_suspended
from cases.models import Consent

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


def changes_record(*, model, obj, new: dict, old: dict | None = None, action: str = Action.UPDATE) -> None:
    """A write that bypasses model signals: `new` holds the changed fields, `old` defaults to `obj`'s values."""
    subject = subject_for(model)
    if subject is None or is_suspended():
        return
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
    if changes:
        _write(subject, obj, action, changes)


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
