"""Dashboard panels about decisions and drift."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from decisions.limits import DECISIONS_RECENT_HOURS
from decisions.models import Activity, Decision, ReviewStatus
from kernel.permissions import Action, AnyUser, can


def drift_panels(user: AnyUser) -> list[dict]:
    """Security: flagged activity nobody has reviewed yet; everyone with the log: decisions."""
    panels = []
    if can(user, Action.REVIEW_ACTIVITY):
        panels.append(
            {
                "key": "drift",
                "title": "Flagged activity to review",
                "value": Activity.objects.filter(
                    flagged=True, review_status=ReviewStatus.PENDING
                ).count(),
                "link": reverse("decisions:review"),
                "link_label": "Drift review",
            }
        )
    if can(user, Action.VIEW_AUDIT_TRAIL):
        panels.append(
            {
                "key": "decisions-24h",
                "title": f"Decisions in the last {DECISIONS_RECENT_HOURS} hours",
                "value": Decision.objects.filter(
                    decided_at__gte=timezone.now() - timedelta(hours=DECISIONS_RECENT_HOURS)
                ).count(),
            }
        )
    return panels
