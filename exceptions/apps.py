from django.apps import AppConfig


class ExceptionsConfig(AppConfig):
    name = "exceptions"
    verbose_name = "Policy exceptions"

    def ready(self) -> None:
        # Notices register themselves with kernel.notifications when their module is imported.
        from approvals.queue import register_queue_section
        from exceptions import (
            notifications,  # noqa: F401
            sections,
        )
        from exceptions.dashboard import exception_panels
        from kernel.dashboard import register_panels
        from registry.agent_sections import register_agent_section

        register_panels(exception_panels)
        register_agent_section(sections.agent_exceptions_section)
        register_queue_section(sections.approval_queue_section)
