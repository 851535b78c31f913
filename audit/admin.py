"""Admin pages that show a resident's data log it like the API does (none is registered today: residents,
cases and notes are read through the policy, in the API). `tests/audit/test_subjects.py` fails when such a
model is registered without this base class."""

from django.contrib import admin

from audit.access_log import access_log_read


class AccessLoggedAdmin(admin.ModelAdmin):
    """Notes every object a change page or a change list shows; the middleware writes the log."""

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            access_log_read(obj)
        return obj

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
        for obj in getattr(changelist, "result_list", []):
            access_log_read(obj)
        return response
