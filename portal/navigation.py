"""The navigation bar: each entry shows only to roles that may use what it leads to."""

from dataclasses import dataclass

from django.urls import reverse

from kernel.permissions import Action, AnyUser, can


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    action: Action


NAV_ENTRIES: tuple[NavEntry, ...] = (
    NavEntry("Dashboard", "dashboard", Action.VIEW_PORTAL),
    NavEntry("Agents", "registry:agent-list", Action.VIEW_PORTAL),
    NavEntry("Policy", "registry:policy", Action.VIEW_PORTAL),
    NavEntry("My requests", "access:request-list", Action.REQUEST_ACCESS),
    NavEntry("Grants", "access:grant-list", Action.VIEW_PORTAL),
    NavEntry("Approvals", "approvals:queue", Action.APPROVE),
    NavEntry("Exceptions", "exceptions:list", Action.VIEW_PORTAL),
    NavEntry("Review", "decisions:review", Action.VIEW_AUDIT_TRAIL),
    NavEntry("Trust", "credentials:providers", Action.MANAGE_TRUST),
    NavEntry("Compliance", "controls:index", Action.VIEW_COMPLIANCE),
    NavEntry("Audit trail", "audit-trail", Action.VIEW_AUDIT_TRAIL),
)


def entries_for(user: AnyUser, current_path: str = "") -> list[dict[str, object]]:
    entries = []
    for entry in NAV_ENTRIES:
        if not can(user, entry.action):
            continue
        url = reverse(entry.url_name)
        active = current_path == url if url == "/" else current_path.startswith(url)
        entries.append({"label": entry.label, "url": url, "active": active})
    return entries
