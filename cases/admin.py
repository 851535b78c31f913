"""Admin for the directory only. Residents and cases are not here: they are read through the policy."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from cases import services
from cases.models import (
    CouncilArea,
    District,
    DistrictAssignment,
    EscalationPolicy,
    EscalationStep,
    Membership,
    Organization,
    User,
    Ward,
)


@admin.register(User)
class MimamoriUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("Mimamori", {"fields": ("display_name",)}))


@admin.register(Ward)
class WardAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]


@admin.register(CouncilArea)
class CouncilAreaAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "ward"]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "council_area"]
    search_fields = ["code", "name"]


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "ward"]
    list_filter = ["kind", "ward"]
    search_fields = ["name"]


class DistrictAssignmentInline(admin.TabularInline):
    model = DistrictAssignment
    extra = 0
    autocomplete_fields = ["district"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "role", "valid_from", "valid_until"]
    list_filter = ["role", "organization__kind"]
    search_fields = ["user__username", "organization__name"]
    inlines = [DistrictAssignmentInline]
    autocomplete_fields = ["organization"]
    raw_id_fields = ["user"]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.membership_changed(user=form.instance.user)

    def delete_model(self, request, obj):
        user = obj.user
        super().delete_model(request, obj)
        services.membership_changed(user=user)


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    ordering = ["position"]
    autocomplete_fields = ["target_organization"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    """Who hears about an unacknowledged task, and when: edited here, read by the escalation sweep."""

    list_display = ["name", "task_kind", "organization_kind", "urgency", "start_after", "active"]
    list_filter = ["task_kind", "organization_kind", "urgency", "active"]
    search_fields = ["name"]
    inlines = [EscalationStepInline]
