from typing import Any

from django.apps import AppConfig


def _on_person_left(sender: Any, user: Any, **kwargs: Any) -> None:
    """kernel.accounts.person_left: the leaver's pending exceptions are cancelled."""
    from exceptions.services import cancel_pending_of_leaver

    cancel_pending_of_leaver(user)


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
        from kernel.accounts import person_left
        from kernel.dashboard import register_panels
        from registry.agent_sections import register_agent_section
        from registry.deviations import register_deviation_form

        person_left.connect(_on_person_left, dispatch_uid="exceptions.cancel_pending_of_leaver")
        register_panels(exception_panels)
        register_agent_section(sections.agent_exceptions_section)
        register_queue_section(sections.approval_queue_section)
        register_deviation_form(sections.exception_form_url)
