from django.contrib import admin

from kernel.admin_mixins import ReadOnlyWorkflowAdmin
from kernel.models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyWorkflowAdmin):
    """What the portal still has to deliver, and what it gave up on (read-only: the
    dispatcher owns these rows)."""

    list_display = ("id", "handler", "status", "attempts", "next_attempt_at", "created_at")
    list_filter = ("status", "handler")
    search_fields = ("handler", "last_error")
