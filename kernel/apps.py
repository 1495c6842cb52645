from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate

from kernel.roles import create_role_groups


def _ensure_role_groups(*args: Any, apps: Any = None, **kwargs: Any) -> None:
    # A flush (as transactional and live-server tests do) empties auth_group and emits
    # post_migrate: the four roles come back at once, as the data migration made them.
    # migrate passes its model states as `apps`; flush passes none.
    create_role_groups(apps=apps or global_apps)


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Kernel"

    def ready(self) -> None:
        from kernel.accounts import connect_account_signals

        connect_account_signals()
        from kernel import notifications  # noqa: F401  (registers the outbox's notice handler)

        post_migrate.connect(
            _ensure_role_groups, sender=self, dispatch_uid="kernel.ensure_role_groups"
        )
