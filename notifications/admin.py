"""The outbox, read-only: operators see what is waiting or failing (ids and links only)."""

from django.contrib import admin

from notifications.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["id", "event", "subject_type", "subject_id", "channel", "urgent", "created_at", "attempts",
                    "delivered_at", "last_error"]
    list_filter = ["channel", "urgent", "event", ("delivered_at", admin.EmptyFieldListFilter)]
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
