"""Dashboard panels about just-in-time access."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from access.limits import BREAK_GLASS_RECENT_DAYS, GRANTS_EXPIRING_HOURS
from access.models import AccessRequest, RequestStatus
from access.selectors import (
    break_glass_awaiting_review,
    grants_expiring_within,
    requests_awaiting,
)
from approvals.queue import awaiting_me_panel
from kernel.permissions import Action, AnyUser, can


def access_panels(user: AnyUser) -> list[dict]:
    """My pending requests; security's queue; grants ending soon; break-glass use."""
    panels = []
    recent_break_glass = AccessRequest.objects.filter(
        break_glass=True, created_at__gte=timezone.now() - timedelta(days=BREAK_GLASS_RECENT_DAYS)
    ).count()
    if can(user, Action.REQUEST_ACCESS):
        panels.append(
            {
                "key": "my-pending-requests",
                "title": "My pending requests",
                "value": AccessRequest.objects.filter(
                    requested_by=user.pk, status=RequestStatus.PENDING
                ).count(),
                "link": reverse("access:request-list") + "?status=pending",
                "link_label": "My requests",
            }
        )
    if can(user, Action.APPROVE):
        waiting = requests_awaiting(user).count()
        panels.append(awaiting_me_panel("approval-queue", "Requests", waiting))
        panels.append(
            {
                "key": "break-glass",
                "title": f"Break-glass to review (uses in the last {BREAK_GLASS_RECENT_DAYS} days)",
                "value": f"{break_glass_awaiting_review(user).count()} ({recent_break_glass})",
                "link": reverse("approvals:queue"),
                "link_label": "Review",
            }
        )
    if can(user, Action.VIEW_PORTAL):
        expiring = grants_expiring_within(GRANTS_EXPIRING_HOURS, user)
        panels.append(
            {
                "key": "grants-expiring",
                "title": f"Grants expiring within {GRANTS_EXPIRING_HOURS} hours",
                "value": expiring.count(),
                "link": reverse("access:request-list") + "?all=1",
                "link_label": "Requests",
            }
        )
    return panels
