from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The project shell: settings, URLs, the Celery app, the dashboard page, demo seeding."""

    name = "portal"
    verbose_name = "Portal"
