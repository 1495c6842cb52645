"""Dashboard panel of compliance: each framework's items by status over the last 30 days, the
figures of each framework's audit report for that period.

A report per framework on every dashboard load would collect every control once per framework
(they share the same eleven controls). Instead every active control is collected once, each
framework's items roll up from those results exactly as its report rolls them up, and the
figures are kept in the cache for CACHE_SECONDS: a dashboard load costs a cache read; the load
that misses costs one collection (its queries do not grow with the records) plus two queries
per framework. The panel says when the figures were computed.
"""

from collections import Counter, defaultdict

from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from compliance.collectors import Status
from compliance.period import Period, period_parse
from compliance.reports.build import NOT_APPLICABLE, NOT_COVERED, collect_controls, item_rows
from controls.applicability import statement_get
from controls.models import Control, Framework, Mapping
from kernel.charts import WIDE, Cell, Chart, Row, Series
from kernel.dashboard import chart_panel
from kernel.permissions import Action, AnyUser, can

CACHE_SECONDS = 600
STATUSES = [
    Series(Status.EFFECTIVE, "Effective", tone="ok", pattern="solid"),
    Series(Status.PARTIALLY_EFFECTIVE, "Partially effective", tone="warn", pattern="hatch"),
    Series(Status.NOT_EFFECTIVE, "Not effective", tone="bad", pattern="cross"),
    Series(Status.EXCEPTED, "Excepted", tone="info", pattern="dots"),
    Series(Status.NO_EVIDENCE, "No evidence", tone="neutral", pattern="lines"),
    Series(NOT_COVERED, "Not covered", tone="neutral", pattern="open"),
]


def compliance_panels(user: AnyUser) -> list[dict]:
    """Security and auditors (who read the reports the counts link to)."""
    if not can(user, Action.EXPORT_EVIDENCE):
        return []
    period = period_parse(None, None)
    key = f"dashboard:framework-status:{period.start.isoformat()}:{period.end.isoformat()}"
    figures = cache.get(key)
    if figures is None:
        figures = framework_status(period)
        cache.set(key, figures, CACHE_SECONDS)
    note = (
        f"Figures of each framework's audit report for {period}, computed "
        f"{figures['computed_at']:%Y-%m-%d %H:%M} UTC (at most {CACHE_SECONDS // 60} minutes "
        "old). Items marked not applicable are left out."
    )
    return [chart_panel(_chart(figures, period), rank=50, note=note)]


def framework_status(period: Period) -> dict:
    """Per framework: its items by status for `period` (as its report counts them)."""
    by_item: dict[int, list[Mapping]] = defaultdict(list)
    controls: dict[int, Control] = {}
    mappings = Mapping.objects.filter(control__active=True).select_related("control")
    for mapping in mappings.order_by("control__ref_id"):
        by_item[mapping.item_id].append(mapping)
        controls[mapping.control_id] = mapping.control
    results = collect_controls(list(controls.values()), period)
    frameworks = []
    for framework in Framework.objects.order_by("name"):
        items = item_rows(framework, statement_get(framework), by_item, results)
        counts = Counter(str(row.status) for row in items)
        frameworks.append(
            {
                "key": framework.key,
                "name": framework.name,
                "counts": {str(s.key): counts[str(s.key)] for s in STATUSES},
                "not_applicable": counts[NOT_APPLICABLE],
            }
        )
    return {"computed_at": timezone.now(), "frameworks": frameworks}


def _chart(figures: dict, period: Period) -> Chart:
    query = f"from={period.start.isoformat()}&to={period.end.isoformat()}"
    rows = []
    for framework in figures["frameworks"]:
        report = f"{reverse('compliance:report', args=[framework['key']])}?{query}"
        rows.append(
            Row(
                key=framework["key"],
                label=framework["name"],
                cells=[Cell(framework["counts"][str(s.key)], report) for s in STATUSES],
                link=report,
            )
        )
    chart = Chart(
        key="framework-status",
        title="Control status per framework (items by status, last 30 days)",
        series=STATUSES,
        rows=rows,
        row_heading="Framework",
        horizontal=True,
        shares=True,
        empty="No framework is loaded.",
        unit="items",
        width=WIDE,
    )
    chart.summary = (
        f"Each bar is one framework's applicable items by the status of their controls, as in "
        f"its audit report for {period}."
    )
    return chart
