from django.apps import AppConfig


class ComplianceConfig(AppConfig):
    name = "compliance"
    label = "compliance"
    verbose_name = "Compliance"

    def ready(self) -> None:
        # Registers the outbox handler that starts package builds, and the requeue task.
        from compliance import package_requests  # noqa: F401
        from compliance.dashboard import compliance_panels
        from compliance.policy_impact import review_section
        from compliance.views import report_link
        from controls.framework_links import register_framework_link
        from kernel.dashboard import register_panels
        from registry.policy_review import register_review_section

        register_review_section(review_section)
        register_panels(compliance_panels)
        register_framework_link(report_link)
