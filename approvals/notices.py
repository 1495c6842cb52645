"""What every workflow's "approval needed" notice shares: who is told, and how it ends.

Security is told, never whoever asked nor the agent's owner: approval refuses both
(approvals.permissions), so telling them would only ask what they may not do.
SECURITY_TEAM_EMAIL is always told (kernel.notifications.security_addresses).
"""

from typing import Any

from approvals.rules import security_approvals
from kernel.notifications import link, security_addresses


def approvers_to_tell(subject: Any) -> list[str]:
    """The addresses of those who may approve `subject` (a request, exception, binding)."""
    return security_addresses(but=[subject.requested_by.email, subject.agent.owner.email])


def waiting_for_approval(subject: Any) -> str:
    """The notice's last line: how many approvals it needs, and where they are given."""
    needs = security_approvals(subject.required_approvals)
    return f"Needs {needs}. Everything waiting for security: {link('approvals:queue')}\n"
