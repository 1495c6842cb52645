from django.contrib import admin

from exceptions.models import ExceptionApproval, ExceptionReminder, PolicyException
from kernel.admin_mixins import ReadOnlyWorkflowAdmin


class ExceptionApprovalInline(admin.TabularInline):
    model = ExceptionApproval
    fields = ("approver", "comment", "created_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ExceptionReminderInline(admin.TabularInline):
    model = ExceptionReminder
    fields = ("kind", "sent_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PolicyException)
class PolicyExceptionAdmin(ReadOnlyWorkflowAdmin):
    """Read-only: approving, rejecting, revoking and renewing go through the services."""

    list_display = ["id", "title", "agent", "capability", "risk", "status", "expires_at"]
    list_filter = ["status", "risk"]
    search_fields = ["title", "agent__slug", "capability__key"]
    list_select_related = ["agent", "capability"]
    inlines = [ExceptionApprovalInline, ExceptionReminderInline]
