from rest_framework import serializers

from notifications.messages import event_text
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    """An event about a task or referral, by id and link. No personal data."""

    title = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "event", "title", "subject_type", "subject_id", "link", "created_at", "read_at"]
        read_only_fields = fields

    def get_title(self, notification) -> str:
        return event_text(notification.event)
