"""What a notification says: an event, an id and a link. Never a name, an address or a note."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# What each event says (English, marked for translation: the Japanese is in the locale catalogue).
# An exercise says so in every message ([EXERCISE] / 【訓練】).
EVENTS = {
    "task_assigned": _("A new task is waiting"),
    "task_reminder": _("A task is still open"),
    "task_escalated": _("An unacknowledged task was escalated to you"),
    "referral_requested": _("A referral was sent to you"),
    "referral_updated": _("A referral changed state"),
    "rights_request_due": _("A rights request is due soon"),
    "disaster_declared": _("A disaster event was declared"),
    "disaster_checks_assigned": _("Safety checks were assigned to you"),
    "disaster_closed": _("A disaster event closed: its provisions await review"),
    "exercise_declared": _("[EXERCISE] A disaster exercise was declared"),
    "exercise_checks_assigned": _("[EXERCISE] Safety checks were assigned to you"),
    "exercise_closed": _("[EXERCISE] A disaster exercise closed"),
}
SUBJECTS = {"task": _("Task"), "referral": _("Referral"), "rights_request": _("Rights request"),
            "disaster_event": _("Disaster event")}
GENERIC = _("You have a notification")


def event_text(event: str) -> str:
    """The event's title in the active language (the request's, for the in-app list)."""
    return str(EVENTS.get(event, GENERIC))


def subject_text(subject_type: str) -> str:
    return str(SUBJECTS.get(subject_type, subject_type))


def _in_both(event: str, subject_type: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """An e-mail says everything in Japanese, then in English, whoever receives it."""
    with translation.override("ja"):
        ja = event_text(event), subject_text(subject_type)
    with translation.override("en"):
        en = event_text(event), subject_text(subject_type)
    return ja, en


def absolute_link(path: str) -> str:
    return f"{settings.NOTIFICATION_LINK_BASE.rstrip('/')}{path}"


def email_subject(*, event: str, subject_type: str, subject_id: int) -> str:
    (ja, kind_ja), (en, kind_en) = _in_both(event, subject_type)
    return f"[見守り] {ja}（{kind_ja} {subject_id}） / {en} ({kind_en} {subject_id})"


def email_body(*, event: str, subject_type: str, subject_id: int, link: str) -> str:
    (ja, kind_ja), (en, kind_en) = _in_both(event, subject_type)
    url = absolute_link(link)
    return (
        f"{ja}：{kind_ja} {subject_id}\n{url}\n\n"
        f"{en}: {kind_en} {subject_id}\n{url}\n\n"
        "内容はログインして確認してください。このメールに個人情報は含まれていません。\n"
        "Sign in to read it. This e-mail carries no personal data.\n"
    )


def email_message_id(key: str) -> str:
    """The outbox key as the e-mail's Message-ID: a repeated send carries the same id, so a receiving
    server (or a mail client) that drops duplicates drops it. Stable across workers and hosts."""
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(" >") or "mimamori"
    return f"<{key.replace(':', '.')}@{domain}>"
