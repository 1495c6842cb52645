"""Activity reported by gateways, drift flags, and security's review of the flags.

An action is covered when, at the moment it happened, something allowed it (decisions.coverage
says what counts). Anything else is drift — the agent did more than it was given — and waits
for security's review.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from decisions import notifications
from decisions.coverage import coverage_for
from decisions.models import Activity, ReviewStatus, RolledDay
from decisions.partitions import ACTIVITY, insert_covered
from decisions.retention import retained_since
from decisions.rollups import mark_changed, utc_today
from kernel.audit import audit_actor, audit_batch
from kernel.errors import ApplicationError
from kernel.notifications import queue_event
from kernel.permissions import Action, require
from kernel.transitions import check_transition
from kernel.validation import TEXT_MAX_LENGTH, has_visible_text
from registry.models import Agent, AgentStatus, Capability

# Review pipeline: a flag is reviewed once, as expected or as an incident.
ALLOWED_REVIEW = {
    ReviewStatus.PENDING: {ReviewStatus.EXPECTED, ReviewStatus.INCIDENT},
    ReviewStatus.NOT_NEEDED: set(),
    ReviewStatus.EXPECTED: set(),
    ReviewStatus.INCIDENT: set(),
}


@transaction.atomic
def activity_report(*, actor: User, items: Sequence[Mapping[str, Any]]) -> list[Activity]:
    """Record what agents did (items validated by decisions.api.serializers.ActivityIn); all
    or nothing. Flags what nothing covered. A constant number of queries per batch."""
    require(actor, Action.REPORT_ACTIVITY)
    agents = Agent.objects.in_bulk([item["agent"] for item in items], field_name="slug")
    capabilities = Capability.objects.in_bulk(
        [item["capability"] for item in items], field_name="key"
    )
    rows = [
        Activity(
            agent=agents.get(item["agent"]),
            agent_slug=item["agent"],
            capability=capabilities.get(item["capability"]),
            capability_key=item["capability"],
            target=item.get("target", ""),
            outcome=item["outcome"],
            occurred_at=item["occurred_at"],
            reported_by=actor,
        )
        for item in items
    ]
    known = [
        (row, (row.agent, row.capability, row.occurred_at))
        for row in rows
        if row.agent is not None and row.capability is not None
    ]
    covered = coverage_for([action for _, action in known])
    for (row, _), covered_by in zip(known, covered, strict=True):
        row.covered_by = covered_by or ""
    for row in rows:
        row.flag_reason = _flag_reason(row)
        row.flagged = bool(row.flag_reason)
        row.review_status = ReviewStatus.PENDING if row.flagged else ReviewStatus.NOT_NEEDED
    closed = {row.occurred_at.astimezone(UTC).date() for row in rows} - {utc_today()}
    if closed:  # reported late (two more queries; a report of today's actions costs none)
        _refuse_dropped_by_retention(rows)
    with audit_actor(actor):
        # A report dated in a month with no partition yet makes it (PostgreSQL).
        created = insert_covered(
            ACTIVITY, [row.occurred_at for row in rows], lambda: Activity.objects.bulk_create(rows)
        )
        if closed:
            # A day already rolled up does not hold these rows: reports read it raw until
            # roll_up_due re-rolls it. No day lock here (a retention run holding one could wait
            # on this transaction's rows): a roll in progress that misses them is caught by
            # roll_up_due's late-row check instead.
            RolledDay.objects.filter(
                log=RolledDay.Log.ACTIVITY, day__in=sorted(closed), stale=False
            ).update(stale=True)
        if created:
            ids = ", ".join(str(row.pk) for row in created)
            summary = f"{len(created)} reported by {actor.get_username()}: #{ids}"
            audit_batch(created[0], field="batch", summary=summary, created=True)
        queue_event(notifications.drift_flagged(created))
        return created


def _refuse_dropped_by_retention(rows: list[Activity]) -> None:
    """Refuse an action dated where retention already dropped the raw records: its day lives
    on only as rollups, which no re-roll may rewrite from the rows left (the new one alone), so
    it would be counted nowhere and keep its month from ever being dropped again."""
    since = retained_since(ACTIVITY)
    late = [(i, row) for i, row in enumerate(rows) if since and row.occurred_at < since]
    if since is None or not late:
        return
    index, row = late[0]
    where = f"item {index}: " if len(rows) > 1 else ""
    raise ApplicationError(
        f"{where}'occurred_at' ({row.occurred_at.astimezone(UTC):%Y-%m-%d %H:%M}Z) is before "
        f"{since.astimezone(UTC):%Y-%m-%d %H:%M}Z: activity records before then were dropped "
        f"by retention (ACTIVITY_RETENTION_DAYS, {ACTIVITY.retention_days} days) and only "
        "their daily counts are kept; an action that old can no longer be recorded.",
        code="outside_retention",
        field="occurred_at",
    )


def _flag_reason(row: Activity) -> str:
    if row.agent is None:
        return f"Unknown agent '{row.agent_slug}'."
    if row.capability is None:
        return f"Unknown capability '{row.capability_key}'."
    if row.agent.status != AgentStatus.ACTIVE:
        return (
            f"Agent '{row.agent.slug}' is {row.agent.status}: its grants and exceptions are void "
            f"and nothing covers what it does ({row.capability.key} at "
            f"{row.occurred_at:%Y-%m-%d %H:%M:%S}Z)."
        )
    if row.covered_by:
        return ""
    return (
        f"No standing allow, grant, exception or allow decision covered "
        f"{row.agent.slug} {row.capability.key} at {row.occurred_at:%Y-%m-%d %H:%M:%S}Z."
    )


@transaction.atomic
def activity_review(*, actor: User, activity: Activity, verdict: str, note: str) -> Activity:
    """Security closes a flag: the action was expected, or it is an incident."""
    require(actor, Action.REVIEW_ACTIVITY)
    if verdict not in (ReviewStatus.EXPECTED, ReviewStatus.INCIDENT):
        raise ApplicationError("verdict is 'expected' or 'incident'.", field="verdict")
    if not has_visible_text(note):
        raise ApplicationError("Say why in a note: it is the evidence of the review.", field="note")
    if len(note) > TEXT_MAX_LENGTH:
        raise ApplicationError(
            f"Keep the note to at most {TEXT_MAX_LENGTH} characters.", field="note"
        )
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    refusal = f"This activity is '{activity.review_status}'; it cannot be reviewed again."
    check_transition(ALLOWED_REVIEW, ReviewStatus(activity.review_status), verdict, refusal)
    activity.review_status = verdict
    activity.review_note = note.strip()
    activity.reviewed_by = actor
    activity.reviewed_at = timezone.now()
    with audit_actor(actor):
        activity.save(update_fields=["review_status", "review_note", "reviewed_by", "reviewed_at"])
    # AGC-10 counts review statuses: a day already rolled up is read raw until re-rolled.
    mark_changed(RolledDay.Log.ACTIVITY, activity.occurred_at)
    return activity
