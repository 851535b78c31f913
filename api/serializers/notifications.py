from rest_framework import serializers

from api.serializers.base import datetime_writer
from notifications.messages import event_text
from notifications.models import Notification

# A list page of notifications as rows: what `NotificationSerializer` reads, from the notification table alone.
NOTIFICATION_VALUES = ("id", "event", "subject_type", "subject_id", "link", "created_at", "read_at")


class NotificationSerializer(serializers.ModelSerializer):
    """An event about a task or referral, by id and link. No personal data."""

    title = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "subject_type", "subject_id", "link", "created_at", "read_at"]
        read_only_fields = fields

    def get_title(self, notification) -> str:
        return event_text(notification.event)


def notifications_represent(rows: list[dict]) -> list[dict]:
    """A page of notifications as `NotificationSerializer` writes it, key for key, from rows of
    `NOTIFICATION_VALUES`: no model or serializer is built per row (a test holds the two to the same bytes)."""
    write_datetime = datetime_writer()
    return [
        {
            "id": row["id"],
            "event": row["event"],
            "title": event_text(row["event"]),
            "subject_type": row["subject_type"],
            "subject_id": row["subject_id"],
            "link": row["link"],
            "created_at": write_datetime(row["created_at"]),
            "read_at": write_datetime(row["read_at"]),
        }
        for row in rows
    ]
