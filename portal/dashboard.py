"""What the dashboard shows each person. Each app contributes panels through a provider.

A provider takes the user and returns a list of panels: dicts with `key`, `title`, and
optionally `value` (a figure), `template` (with the panel dict as `panel`), `link`,
`link_label`. Providers decide by role what to show; they must each run a constant number
of queries.
"""

from django.utils.module_loading import import_string

from portal.permissions import AnyUser, roles_of

DASHBOARD_PROVIDERS: list[str] = [
    "registry.dashboard.inventory_panels",
    "registry.dashboard.access_panels",
    "exceptions.dashboard.exception_panels",
    "registry.dashboard.drift_panels",
]


def dashboard_context(user: AnyUser) -> dict[str, object]:
    panels = []
    for path in DASHBOARD_PROVIDERS:
        panels.extend(import_string(path)(user))
    return {"panels": panels, "roles": sorted(roles_of(user))}
