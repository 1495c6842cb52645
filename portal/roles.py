"""The four roles (Django groups) and the model permissions each group carries.

Groups are created by the data migration `portal/migrations/0001_roles.py`; model permissions
are attached again after every `migrate` (post_migrate), so models added by later migrations
reach the groups without another data migration. What a role may *do* in the portal is decided
in `portal/permissions.py`; model permissions exist for the Django admin and for `has_perm`.
"""

from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ENGINEER = "engineer"
    SECURITY = "security"
    AUDITOR = "auditor"
    GATEWAY = "gateway"


DOMAIN_APPS = ("registry", "exceptions", "compliance")

# role -> {(app_label, model or "*"): actions}. "*" is every model of the app.
ROLE_MODEL_PERMISSIONS: dict[Role, dict[tuple[str, str], tuple[str, ...]]] = {
    Role.ENGINEER: {
        **{(app, "*"): ("view",) for app in DOMAIN_APPS},
        ("registry", "agent"): ("view", "add", "change"),
        ("registry", "accessrequest"): ("view", "add"),
        ("exceptions", "policyexception"): ("view", "add"),
    },
    Role.SECURITY: {
        **{(app, "*"): ("view", "add", "change", "delete") for app in DOMAIN_APPS},
        ("auditlog", "logentry"): ("view",),
    },
    Role.AUDITOR: {
        **{(app, "*"): ("view",) for app in DOMAIN_APPS},
        ("auditlog", "logentry"): ("view",),
    },
    Role.GATEWAY: {
        ("registry", "agent"): ("view",),
        ("registry", "capability"): ("view",),
        ("registry", "decision"): ("view", "add"),
        ("registry", "activity"): ("view", "add"),
    },
}


def sync_role_permissions(*args: Any, apps: Any = None, **kwargs: Any) -> None:
    """Create the groups if missing and give each exactly the model permissions listed above.

    Runs as a post_migrate receiver (Django passes `apps`, the migrated state) and from the
    roles data migration. Idempotent; permissions that do not exist yet are simply skipped.
    """
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    try:
        group_model = apps.get_model("auth", "Group")
        permission_model = apps.get_model("auth", "Permission")
    except LookupError:
        return
    permissions = list(
        permission_model.objects.select_related("content_type").only(
            "id", "codename", "content_type__app_label", "content_type__model"
        )
    )
    for role, grants in ROLE_MODEL_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role.value)
        wanted = []
        for permission in permissions:
            app_label = permission.content_type.app_label
            model = permission.content_type.model
            action = permission.codename.split("_", 1)[0]
            allowed = grants.get((app_label, model)) or grants.get((app_label, "*")) or ()
            if action in allowed:
                wanted.append(permission.id)
        group.permissions.set(wanted)
