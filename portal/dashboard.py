"""The shell's own dashboard panel: what the portal could not deliver, linked to the
deliveries page (portal/views.py) that lists and retries it."""

from django.urls import reverse

from kernel.dashboard import attention
from kernel.outbox import backlog
from kernel.permissions import Action, AnyUser, can


def outbox_panels(user: AnyUser) -> list[dict]:
    """Security: notices and builds the portal could not deliver (kept, retried, visible)."""
    if not can(user, Action.MANAGE_DELIVERIES):
        return []
    waiting = backlog()
    if not waiting["pending"] and not waiting["failed"]:
        return []
    return [
        attention(
            "outbox",
            "Undelivered notices and builds (failed / waiting)",
            f"{waiting['failed']} / {waiting['pending']}",
            reverse("deliveries"),
            rank=90,
        )
    ]
