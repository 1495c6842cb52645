"""The four roles, stored as Django groups.

The groups are created by the data migration `kernel/migrations/0001_roles.py`. What a role
may do is decided in one table, `kernel.permissions.ACTIONS`; groups carry no Django model
permissions (the admin asks the same table through `kernel.admin_mixins`).
"""

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ENGINEER = "engineer"
    SECURITY = "security"
    AUDITOR = "auditor"
    GATEWAY = "gateway"


# Service accounts: they authenticate to the API with a token and never use the HTML pages.
API_ONLY_ROLES = frozenset({Role.GATEWAY})
API_ONLY_MESSAGE = (
    "This account authenticates to the API only (POST /api/v1/auth/token/ for a token); "
    "it cannot log in to the portal pages."
)


def create_role_groups(*, apps: Any) -> None:
    """Create the four groups if missing (idempotent)."""
    group_model = apps.get_model("auth", "Group")
    for role in Role:
        group_model.objects.get_or_create(name=role.value)
