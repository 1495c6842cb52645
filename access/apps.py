from typing import Any

from django.apps import AppConfig


def _on_person_left(sender: Any, user: Any, **kwargs: Any) -> None:
    """kernel.accounts.person_left: the leaver's pending requests are cancelled, and so are
    those their agents filed for them to confirm."""
    from access.agent_requests import decline_awaiting_of_leaver
    from access.services import cancel_pending_of_leaver

    cancel_pending_of_leaver(user)
    decline_awaiting_of_leaver(user)


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = "Just-in-time access"

    def ready(self) -> None:
        # Notices register themselves with kernel.notifications when their module is imported.
        from access import (
            notifications,  # noqa: F401
            sections,
        )
        from access.context import agent_grants_context
        from access.dashboard import access_panels
        from approvals.context import register_agent_context
        from approvals.queue import register_queue_section
        from kernel.accounts import person_left
        from kernel.dashboard import register_panels
        from registry.agent_sections import register_agent_section

        person_left.connect(_on_person_left, dispatch_uid="access.cancel_pending_of_leaver")
        register_panels(access_panels)
        register_agent_section(sections.agent_access_section)
        register_queue_section(sections.access_requests_queue_section)
        register_queue_section(sections.break_glass_queue_section)
        register_agent_context(agent_grants_context)
