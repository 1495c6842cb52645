from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_role_groups(*args: Any, apps: Any = None, **kwargs: Any) -> None:
    # A flush (as transactional and live-server tests do) empties auth_group and emits
    # post_migrate: the four roles come back at once, as the data migration made them.
    from kernel.roles import create_role_groups

    if apps is not None:
        create_role_groups(apps=apps)


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        post_migrate.connect(
            _ensure_role_groups, sender=self, dispatch_uid="kernel.ensure_role_groups"
        )
