"""What the dashboard shows each person. Each app contributes panels through a provider.

A provider takes the user and returns a list of panels: dicts with `key`, `title`, and
optionally `value` (a figure), `template` (with the panel dict as `panel`), `link`,
`link_label`. Providers decide by role what to show; they must each run a constant number
of queries. Apps register their provider in their `AppConfig.ready()`, in layer order.
"""

from collections.abc import Callable

from kernel.permissions import AnyUser, roles_of

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
