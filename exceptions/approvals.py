"""Exceptions' section of security's /approvals/ queue (registry.approval_queue providers)."""

from exceptions.selectors import exceptions_awaiting
from portal.permissions import Action, AnyUser, can


def approval_queue_section(user: AnyUser) -> dict | None:
    """Pending exceptions this security member may approve, oldest first; None for others."""
    if not can(user, Action.APPROVE):
        return None
    return {
        "key": "exceptions",
        "title": "Policy exceptions awaiting approval",
        "template": "exceptions/_approval_queue.html",
        "items": list(exceptions_awaiting(user)),
    }
