"""Dashboard panels about exceptions: waiting for me, ending soon, running by risk and expiry."""

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from approvals.queue import waiting_in_queue
from exceptions.limits import EXPIRING_SOON_DAYS
from exceptions.models import Risk
from exceptions.permissions import exceptions_visible_to
from exceptions.rules import exception_expiring_within_q, exception_running_q
from exceptions.selectors import exceptions_awaiting
from kernel.charts import Cell, Chart, Row, Series
from kernel.dashboard import attention, chart_panel
from kernel.permissions import Action, AnyUser, can

SOON = Series("soon", f"Ends within {EXPIRING_SOON_DAYS} days", tone="warn", pattern="hatch")
LATER = Series("later", "Ends later", tone="accent", pattern="solid")


def exception_panels(user: AnyUser) -> list[dict]:
    if not can(user, Action.VIEW_PORTAL):
        return []
    now = timezone.now()
    # An engineer renews what they asked for; security and auditors watch every exception.
    everyone = can(user, Action.APPROVE) or can(user, Action.VIEW_AUDIT_TRAIL)
    soon, running = exception_expiring_within_q(EXPIRING_SOON_DAYS, now), exception_running_q(now)
    counts = exceptions_visible_to(user).aggregate(
        mine_soon=Count("pk", filter=soon & Q(requested_by=user.pk)),
        all_soon=Count("pk", filter=soon),
        **{f"{risk}_soon": Count("pk", filter=soon & Q(risk=risk)) for risk in Risk.values},
        **{f"{risk}_running": Count("pk", filter=running & Q(risk=risk)) for risk in Risk.values},
    )
    soon_query = {"expiring_within_days": EXPIRING_SOON_DAYS}
    panels = [
        attention(
            "exceptions-expiring",
            f"Exceptions ending within {EXPIRING_SOON_DAYS} days"
            if everyone
            else f"My exceptions ending within {EXPIRING_SOON_DAYS} days: renew them?",
            counts["all_soon"] if everyone else counts["mine_soon"],
            _list(**soon_query) if everyone else _list(**soon_query, mine="true"),
            rank=60,
        ),
        chart_panel(_by_risk_and_expiry(counts), rank=30),
    ]
    if can(user, Action.APPROVE):
        panels.append(
            waiting_in_queue(
                "exceptions-awaiting-me",
                "Exceptions waiting for my approval",
                exceptions_awaiting(user).count(),
                "exceptions",
                rank=12,
            )
        )
    return panels


def _list(**filters: object) -> str:
    return f"{reverse('exceptions:list')}?{urlencode(filters)}"


def _by_risk_and_expiry(counts: dict[str, int]) -> Chart:
    """Approved exceptions not over yet (in force or starting later), by risk, split by how
    soon they end; riskiest first."""
    days = EXPIRING_SOON_DAYS
    rows = [
        Row(
            key=risk.value,
            label=risk.label,
            cells=[
                Cell(counts[f"{risk}_soon"], _list(risk=risk.value, expiring_within_days=days)),
                Cell(
                    counts[f"{risk}_running"] - counts[f"{risk}_soon"],
                    _list(risk=risk.value, status="active", ending_after_days=days),
                ),
            ],
            link=_list(risk=risk.value, status="active"),
        )
        for risk in reversed(Risk)
    ]
    chart = Chart(
        key="exceptions-by-risk",
        title="Exceptions in force by risk and expiry",
        series=[SOON, LATER],
        rows=rows,
        row_heading="Risk",
        horizontal=True,
        series_links=[
            _list(expiring_within_days=days),
            _list(status="active", ending_after_days=days),
        ],
        empty="No exception is in force.",
    )
    ending, total = chart.totals[0]["value"], chart.grand_total
    chart.summary = (
        f"{total} approved exception{pluralize(total)} in force or starting later; "
        f"{ending} end{pluralize(ending, 's,')} within {days} day{pluralize(days)}."
    )
    return chart
