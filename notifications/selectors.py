"""Reads: a user's own notifications only."""

from __future__ import annotations

from django.db.models import QuerySet

from cases.errors import NotFound
from notifications.models import Notification


def notifications_of(*, user) -> QuerySet[Notification]:
    if not user.is_authenticated:
        return Notification.objects.none()
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def notification_get_for_user(*, user, notification_id: int) -> Notification:
    notification = notifications_of(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound()
    return notification
