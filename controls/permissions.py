"""Who may read and change compliance data. Views, the API and services all ask these."""

from kernel.permissions import Action, AnyUser, can


def can_view_compliance(user: AnyUser) -> bool:
    """Frameworks, controls, mappings and evidence metadata: every human role."""
    return can(user, Action.VIEW_PORTAL)


def can_manage_controls(user: AnyUser) -> bool:
    """Create and edit controls and mappings, upload evidence: security only."""
    return can(user, Action.MANAGE_CONTROLS)


def can_download_evidence(user: AnyUser) -> bool:
    """Evidence file contents may hold sensitive records: exporters (security, auditors) only."""
    return can(user, Action.EXPORT_EVIDENCE)
