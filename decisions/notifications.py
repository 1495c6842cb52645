"""Notices about what agents did: security is told of drift, rendered in the transaction that
recorded the report and delivered once it commits (kernel.notifications)."""

from collections.abc import Sequence

from django.template.defaultfilters import pluralize
from django.utils import timezone

from decisions.models import Activity
from kernel.notifications import Event, link, security_addresses

# A report holds up to decisions.api.serializers.MAX_BATCH actions: one notice per report,
# listing the first of its flags (the review page lists them all).
LISTED = 50


def _line(row: Activity) -> str:
    target = f" on {row.target}" if row.target else ""
    return f"- #{row.pk} {row.agent_slug} {row.capability_key}{target} ({row.outcome}): " + (
        row.flag_reason
    )


def drift_flagged(rows: Sequence[Activity]) -> Event | None:
    """Security: a gateway's report has actions nothing covered (one event per report)."""
    flagged = [row for row in rows if row.flagged]
    if not flagged:
        return None
    first, count = flagged[0], len(flagged)
    reporter = first.reported_by.get_username()
    lines = [_line(row) for row in flagged[:LISTED]]
    if count > LISTED:
        lines.append(f"… and {count - LISTED} more.")
    agents = sorted({row.agent_slug for row in flagged})
    return Event(
        name="activity.drift_flagged",
        object_type="activity",
        object_id=first.pk,
        url=link("decisions:review"),
        subject=f"Drift: {count} action{pluralize(count)} of {', '.join(agents[:3])}"
        + (" and others" if len(agents) > 3 else "")
        + " not covered by policy",
        body=f"{reporter} reported {count} action{pluralize(count)} that no standing allow, "
        "grant, exception or allow decision covered. Review each as expected or as an incident.\n"
        + "\n".join(lines)
        + "\n",
        recipients=security_addresses(),
        data={
            "count": count,
            "reported_by": reporter,
            "activities": [
                {
                    "id": row.pk,
                    "agent": row.agent_slug,
                    "capability": row.capability_key,
                    "target": row.target,
                    "outcome": row.outcome,
                    "occurred_at": row.occurred_at,
                    "reason": row.flag_reason,
                }
                for row in flagged[:LISTED]
            ],
        },
        occurred_at=timezone.now(),
    )
