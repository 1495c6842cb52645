from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project shell: settings, URLs, the Celery app, the dashboard page, demo seeding."""

    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        from kernel.dashboard import register_panels
        from portal.dashboard import outbox_panels

        register_panels(outbox_panels)
