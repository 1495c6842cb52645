from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from decisions.dashboard import drift_panels
        from kernel.dashboard import register_panels

        register_panels(drift_panels)
