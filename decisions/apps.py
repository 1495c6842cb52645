from django.apps import AppConfig


class DecisionsConfig(AppConfig):
    name = "decisions"
    verbose_name = "Decisions"

    def ready(self) -> None:
        from approvals.context import register_agent_context
        from decisions.approval_context import agent_drift_context
        from decisions.dashboard import drift_panels
        from decisions.sections import effective_section
        from kernel.dashboard import register_panels
        from registry.agent_sections import register_agent_section

        register_panels(drift_panels)
        register_agent_section(effective_section)
        register_agent_context(agent_drift_context)
