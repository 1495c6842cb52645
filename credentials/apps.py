from typing import Any

from django.apps import AppConfig


def _on_tier_changed(sender: Any, agent: Any, actor: Any, **kwargs: Any) -> None:
    """registry.signals.tier_changed: bindings that lack the approvals of the agent's new tier
    (a production agent's need security's) wait for them again; below production, those that
    waited take effect; the people concerned are told."""
    from credentials.services.bindings import bindings_follow_tier

    bindings_follow_tier(agent=agent, actor=actor)


class CredentialsConfig(AppConfig):
    name = "credentials"
    verbose_name = "Short-lived credentials"

    def ready(self) -> None:
        from approvals.queue import register_queue_section
        from credentials import (
            notifications,  # noqa: F401  (its notices register with kernel.notifications)
            sections,
        )
        from credentials.api.oauth import refused_request
        from kernel.dashboard import register_panels
        from kernel.middleware import register_request_refusal
        from registry.agent_sections import register_agent_section
        from registry.signals import tier_changed

        tier_changed.connect(_on_tier_changed, dispatch_uid="credentials.bindings_follow_tier")
        register_panels(sections.credential_panels)
        register_agent_section(sections.agent_identities_section)
        register_queue_section(sections.approval_queue_section)
        # /oauth/token/ and /oauth/introspect/ answer every refusal as RFC 6749 JSON.
        register_request_refusal("/oauth/", refused_request)
