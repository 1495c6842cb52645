"""Django admin hooks that ask the same permission rules as the rest of the portal.

The admin is for superusers administering the portal. Domain workflows (approvals,
publishing, suspensions) go through the services from the portal's pages and API, so the
admin shows workflow models read-only: a save there would bypass the transition rules.
"""

from django.contrib import admin
from django.http import HttpRequest

from kernel.permissions import Action, can


class ReadOnlyWorkflowAdmin(admin.ModelAdmin):
    """Readable by security and auditors (and superusers); never edited from the admin."""

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return can(request.user, Action.VIEW_AUDIT_TRAIL)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
