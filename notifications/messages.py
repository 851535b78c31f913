"""What a notification says: an event, an id and a link. Never a name, an address or a note."""

from __future__ import annotations

from django.conf import settings

# event: (Japanese, English)
EVENTS: dict[str, tuple[str, str]] = {
    "task_assigned": ("新しいタスクがあります", "A new task is waiting"),
    "task_reminder": ("タスクが未対応です", "A task is still open"),
    "task_escalated": ("未対応のタスクがエスカレーションされました", "An unacknowledged task was escalated to you"),
    "referral_requested": ("つなぎの依頼が届きました", "A referral was sent to you"),
    "referral_updated": ("つなぎの状況が変わりました", "A referral changed state"),
    "rights_request_due": ("開示等の請求の期限が近づいています", "A rights request is due soon"),
    "disaster_declared": ("災害イベントが発令されました", "A disaster event was declared"),
    "disaster_checks_assigned": ("安否確認のタスクが割り当てられました", "Safety checks were assigned to you"),
    "disaster_closed": ("災害イベントが終了しました。提供の事後確認があります",
                        "A disaster event closed: its provisions await review"),
    # An exercise says so in every message (【訓練】 / [EXERCISE]).
    "exercise_declared": ("【訓練】災害訓練が発令されました", "[EXERCISE] A disaster exercise was declared"),
    "exercise_checks_assigned": ("【訓練】安否確認のタスクが割り当てられました",
                                 "[EXERCISE] Safety checks were assigned to you"),
    "exercise_closed": ("【訓練】災害訓練が終了しました", "[EXERCISE] A disaster exercise closed"),
}
SUBJECTS = {"task": ("タスク", "Task"), "referral": ("つなぎ", "Referral"),
            "rights_request": ("開示等の請求", "Rights request"), "disaster_event": ("災害イベント", "Disaster event")}
GENERIC = ("お知らせがあります", "You have a notification")


def event_text(event: str) -> tuple[str, str]:
    return EVENTS.get(event, GENERIC)


def subject_text(subject_type: str) -> tuple[str, str]:
    return SUBJECTS.get(subject_type, (subject_type, subject_type))


def absolute_link(path: str) -> str:
    return f"{settings.NOTIFICATION_LINK_BASE.rstrip('/')}{path}"


def email_subject(*, event: str, subject_type: str, subject_id: int) -> str:
    ja, en = event_text(event)
    kind_ja, kind_en = subject_text(subject_type)
    return f"[見守り] {ja}（{kind_ja} {subject_id}） / {en} ({kind_en} {subject_id})"


def email_body(*, event: str, subject_type: str, subject_id: int, link: str) -> str:
    ja, en = event_text(event)
    kind_ja, kind_en = subject_text(subject_type)
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
