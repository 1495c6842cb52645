"""What the dashboard shows each person. Each app contributes panels through a provider.

A provider takes the user and returns a list of panels: dicts with `key`, `title`, and
optionally `value` (a figure), `template` (with the panel dict as `panel`), `link`,
`link_label`. Providers decide by role what to show; they must each run a constant number
of queries. Apps register their provider in their `AppConfig.ready()`, in layer order.
"""

from collections.abc import Callable

from kernel.outbox import backlog
from kernel.permissions import Action, AnyUser, can, roles_of

PanelProvider = Callable[[AnyUser], list[dict]]

_providers: list[PanelProvider] = []


def register_panels(provider: PanelProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def dashboard_context(user: AnyUser) -> dict[str, object]:
    panels: list[dict] = []
    for provider in _providers:
        panels.extend(provider(user))
    return {"panels": panels, "roles": sorted(roles_of(user))}


def outbox_panels(user: AnyUser) -> list[dict]:
    """Security: notices and builds the portal could not deliver (kept, retried, visible)."""
    if not can(user, Action.APPROVE):
        return []
    waiting = backlog()
    if not waiting["pending"] and not waiting["failed"]:
        return []
    return [
        {
            "key": "outbox",
            "title": "Undelivered notices and builds (failed / waiting)",
            "value": f"{waiting['failed']} / {waiting['pending']}",
            "link": "/admin/kernel/outboxmessage/?status__exact=failed",
            "link_label": "See the failures",
        }
    ]
