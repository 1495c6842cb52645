"""What the dashboard shows each person. Each app contributes panels through a provider.

A provider takes the user and returns a list of panels: dicts with `key` and `title`, of one
of three kinds:

- `attention()`: an item of "needs my attention" (how many, what, the list of exactly those);
  items with something waiting come first, in `rank` order, the rest are listed as clear;
- `chart_panel()`: a kernel.charts.Chart, drawn as SVG with its numbers in a table;
- anything else: a figure card with optionally `value`, `template` (with the panel dict as
  `panel`), `link`, `link_label`.

Providers decide by role what to show; they must each run a constant number of queries
whatever the amount of data. Apps register their provider in their `AppConfig.ready()`, in
layer order.
"""

from collections.abc import Callable

from kernel.charts import WIDTH, Chart
from kernel.permissions import Action, AnyUser, can, roles_of

PanelProvider = Callable[[AnyUser], list[dict]]
ATTENTION = "attention"
CHART = "chart"

_providers: list[PanelProvider] = []


def register_panels(provider: PanelProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def attention(
    key: str, title: str, value: int | str, link: str, *, rank: int, note: str = ""
) -> dict:
    """An item of "needs my attention": `value` things described by `title`, and the link to
    the list of exactly those. A lower `rank` comes first."""
    return {
        "key": key,
        "kind": ATTENTION,
        "title": title,
        "value": value,
        "link": link,
        "rank": rank,
        "note": note,
    }


def chart_panel(chart: Chart, *, rank: int, note: str = "") -> dict:
    """A chart card; a chart drawn wider than kernel.charts.WIDTH spans the page."""
    return {
        "key": chart.key,
        "kind": CHART,
        "title": chart.title,
        "chart": chart,
        "rank": rank,
        "note": note,
        "wide": chart.width > WIDTH,
    }


def _waiting(item: dict) -> bool:
    return item["value"] not in (0, "", None)


def dashboard_context(user: AnyUser) -> dict[str, object]:
    roles = sorted(roles_of(user))
    if not can(user, Action.VIEW_PORTAL):  # the gateway (and no role) use no page
        return {"panels": [], "roles": roles, "uses_pages": False}
    panels: list[dict] = []
    for provider in _providers:
        panels.extend(provider(user))
    items = sorted(
        (panel for panel in panels if panel.get("kind") == ATTENTION), key=lambda p: p["rank"]
    )
    charts = sorted(
        (panel for panel in panels if panel.get("kind") == CHART), key=lambda p: p["rank"]
    )
    return {
        "panels": panels,
        "roles": roles,
        "uses_pages": True,
        "attention": [item for item in items if _waiting(item)],
        "all_clear": [item for item in items if not _waiting(item)],
        "charts": charts,
        "figures": [panel for panel in panels if panel.get("kind") not in (ATTENTION, CHART)],
    }
