"""Dashboard panels about exceptions: in force by risk, expiring soon, waiting for me."""

from django.urls import reverse

from approvals.queue import awaiting_me_panel
from exceptions.limits import EXPIRING_SOON_DAYS
from exceptions.models import Risk
from exceptions.selectors import active_counts_by_risk, exceptions_awaiting
from kernel.permissions import Action, AnyUser, can


def exception_panels(user: AnyUser) -> list[dict]:
    if not can(user, Action.VIEW_PORTAL):
        return []
    counts = active_counts_by_risk(user)
    list_url = reverse("exceptions:list")
    panels = [
        {
            "key": "exceptions-by-risk",
            "title": "Active exceptions by risk",
            "template": "exceptions/_dashboard_by_risk.html",
            "rows": [(risk.value, risk.label, counts[risk.value]) for risk in Risk],
            "total": sum(counts[risk.value] for risk in Risk),
            "link": list_url + "?status=active",
            "link_label": "Exceptions",
        },
        {
            "key": "exceptions-expiring",
            "title": f"Exceptions expiring within {EXPIRING_SOON_DAYS} days",
            "value": counts["expiring"],
            "link": f"{list_url}?expiring_within_days={EXPIRING_SOON_DAYS}",
            "link_label": "Review and renew",
        },
    ]
    if can(user, Action.APPROVE):
        waiting = exceptions_awaiting(user).count()
        panels.append(awaiting_me_panel("exceptions-awaiting-me", "Exceptions", waiting))
    return panels
