"""Writes: marking a notification read (idempotent)."""

from __future__ import annotations

from django.utils import timezone

from notifications.models import Notification
from notifications.selectors import notification_get_for_user


def notification_mark_read(*, user, notification_id: int) -> Notification:
    notification = notification_get_for_user(user=user, notification_id=notification_id)
    Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
    notification.refresh_from_db()
    return notification
