"""Dashboard panels about just-in-time access: what waits for me, my requests by status,
grants ending soon, active grants by tier."""

from urllib.parse import urlencode

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from access.limits import GRANTS_EXPIRING_HOURS
from access.models import AccessRequest, RequestStatus
from access.permissions import to_confirm_q
from access.rules import grant_active_q, grant_expiring_within_q
from access.selectors import break_glass_awaiting_review, grants_visible_to, requests_awaiting
from approvals.queue import waiting_in_queue
from kernel.charts import Chart, Series, counted, rows_by_choice
from kernel.dashboard import attention, chart_panel
from kernel.permissions import Action, AnyUser, can
from registry.models import Tier

REQUESTS = Series("requests", "Requests", tone="accent", pattern="solid")
ACTIVE_GRANTS = Series("active", "Active grants", tone="accent", pattern="solid")
TIERS_RISKIEST_FIRST = [Tier.PRODUCTION, Tier.INTERNAL, Tier.SANDBOX]


def access_panels(user: AnyUser) -> list[dict]:
    """Requesters: my requests waiting and by status, grants of my agents ending soon;
    security: requests and break-glass uses waiting for me; everyone: active grants by tier."""
    panels = []
    if can(user, Action.REQUEST_ACCESS):
        panels.extend(_my_requests(user))
    if can(user, Action.APPROVE):
        panels += [
            waiting_in_queue(
                "approval-queue",
                "Access requests waiting for my approval",
                requests_awaiting(user).count(),
                "access-requests",
                rank=10,
            ),
            waiting_in_queue(
                "break-glass",
                "Break-glass uses to review",
                break_glass_awaiting_review(user).count(),
                "break-glass",
                rank=20,
            ),
        ]
    if can(user, Action.VIEW_PORTAL):
        panels.extend(_grants(user))
    return panels


def _my_requests(user: AnyUser) -> list[dict]:
    """My requests by status and, in the same query, what my agents (mine, my team's) filed
    for me to confirm: listed only when something waits (only agents on MCP file them)."""
    mine = Q(requested_by=user.pk)
    to_confirm = to_confirm_q(user)
    counts = AccessRequest.objects.filter(mine | to_confirm).aggregate(
        to_confirm=Count("pk", filter=to_confirm),
        **{status: Count("pk", filter=mine & Q(status=status)) for status in RequestStatus.values},
    )
    list_url = reverse("access:request-list")
    panels = [
        attention(
            "my-pending-requests",
            "My access requests waiting for approval",
            counts[RequestStatus.PENDING],
            f"{list_url}?status={RequestStatus.PENDING}",
            rank=40,
        )
    ]
    if counts["to_confirm"]:
        panels.append(
            attention(
                "requests-to-confirm",
                "Access my agents asked for, awaiting my confirmation",
                counts["to_confirm"],
                f"{list_url}?to_confirm=true",
                rank=35,
            )
        )
    shown = [s for s in RequestStatus if s != RequestStatus.AWAITING_OWNER or counts[s.value]]
    if any(counts[status] for status in RequestStatus.values):
        chart = Chart(
            key="my-requests",
            title="My access requests by status",
            series=[REQUESTS],
            rows=rows_by_choice(shown, counts, lambda status: f"{list_url}?status={status}"),
            row_heading="Status",
            horizontal=True,
            series_links=[list_url],
        )
        chart.summary = f"{chart.grand_total} requests filed by me: {counted(shown, counts)}."
        panels.append(chart_panel(chart, rank=5))
    return panels


def _grants(user: AnyUser) -> list[dict]:
    """Grants this person sees (an engineer: their agents' and their team's; security and
    auditors: all), active now: by tier, and those ending soon."""
    now = timezone.now()
    active = grant_active_q(now)
    ending = grant_expiring_within_q(GRANTS_EXPIRING_HOURS, now)
    counts = grants_visible_to(user).aggregate(
        ending=Count("pk", filter=ending),
        **{tier: Count("pk", filter=active & Q(agent__tier=tier)) for tier in Tier.values},
    )
    grants_url = reverse("access:grant-list")
    chart = Chart(
        key="grants-by-tier",
        title="Active grants by tier",
        series=[ACTIVE_GRANTS],
        rows=rows_by_choice(
            TIERS_RISKIEST_FIRST, counts, lambda tier: f"{grants_url}?{urlencode({'tier': tier})}"
        ),
        row_heading="Agent tier",
        horizontal=True,
        series_links=[grants_url],
        empty="No grant is active.",
    )
    chart.summary = (
        f"{chart.grand_total} grants active now: {counted(TIERS_RISKIEST_FIRST, counts)}"
    )
    panels = [chart_panel(chart, rank=20)]
    if not (can(user, Action.APPROVE) or can(user, Action.VIEW_AUDIT_TRAIL)):
        # An engineer's grants (their agents', their team's) ending soon: renew or let them end.
        query = urlencode({"expiring_within_hours": GRANTS_EXPIRING_HOURS})
        panels.append(
            attention(
                "grants-expiring",
                f"Grants of my agents ending within {GRANTS_EXPIRING_HOURS} hours",
                counts["ending"],
                f"{grants_url}?{query}",
                rank=50,
            )
        )
    return panels
