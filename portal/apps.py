from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from portal.roles import sync_role_permissions

        # Permissions of models added by later migrations reach the groups after every migrate.
        post_migrate.connect(sync_role_permissions, dispatch_uid="portal.sync_role_permissions")
