"""Activity reported by gateways, drift flags, and security's review of the flags.

An action is covered when, at the moment it happened, something allowed it: a standing
`allow` rule of the policy version then in force, a grant then active, an exception then
active, or an `allow` decision for the same agent and capability shortly before. Anything
else is drift — the agent did more than it was given — and waits for security's review.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from decisions.models import Activity, Decision, DecisionOutcome, ReviewStatus
from decisions.selectors import exception_active_at, grant_active_at
from kernel.audit import audit_actor
from kernel.errors import ApplicationError, Forbidden
from kernel.permissions import Action, can
from registry.models import Agent, Capability, Effect, PolicyRule, PolicyStatus

MAX_BATCH = 1000

# Review pipeline: a flag is reviewed once, as expected or as an incident.
ALLOWED_REVIEW = {
    ReviewStatus.PENDING: {ReviewStatus.EXPECTED, ReviewStatus.INCIDENT},
    ReviewStatus.NOT_NEEDED: set(),
    ReviewStatus.EXPECTED: set(),
    ReviewStatus.INCIDENT: set(),
}


def _standing_allow_at(agent: Agent, capability: Capability, at: datetime) -> int | None:
    """The number of the policy version in force at `at`, if it allowed this standing."""
    rule = (
        PolicyRule.objects.filter(
            version__status=PolicyStatus.PUBLISHED,
            version__published_at__lte=at,
            tier=agent.tier,
            capability=capability,
        )
        .order_by("-version__number")
        .values_list("effect", "version__number")
        .first()
    )
    if rule and rule[0] == Effect.ALLOW:
        return rule[1]
    return None


def coverage_at(agent: Agent, capability: Capability, at: datetime) -> str | None:
    """What allowed this action at `at`, in words, or None when nothing did."""
    version = _standing_allow_at(agent, capability, at)
    if version is not None:
        return f"standing allow (policy v{version})"
    grant_id = grant_active_at(agent_id=agent.pk, capability_id=capability.pk, at=at)
    if grant_id is not None:
        return f"grant #{grant_id}"
    exception_id = exception_active_at(agent_id=agent.pk, capability_id=capability.pk, at=at)
    if exception_id is not None:
        return f"exception #{exception_id}"
    window = timedelta(seconds=settings.DECISION_COVERS_ACTIVITY_SECONDS)
    decision_id = (
        Decision.objects.filter(
            agent_id=agent.pk,
            capability_id=capability.pk,
            decision=DecisionOutcome.ALLOW,
            decided_at__gte=at - window,
            decided_at__lte=at,
        )
        .values_list("pk", flat=True)
        .first()
    )
    if decision_id is not None:
        return f"allow decision #{decision_id}"
    return None


def _parse_item(item: Any, index: int) -> dict[str, Any]:
    where = f"item {index}: " if index >= 0 else ""
    if not isinstance(item, dict):
        raise ApplicationError(f"{where}each activity is a JSON object.", code="invalid_body")
    cleaned = {}
    for name, limit, required in (
        ("agent", 200, True),
        ("capability", 200, True),
        ("target", 500, False),
        ("outcome", 32, True),
    ):
        value = item.get(name, "")
        if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
            raise ApplicationError(
                f"{where}'{name}' must be a{' non-empty' if required else ''} string of at most "
                f"{limit} characters.",
                field=name,
            )
        cleaned[name] = value.strip()
    occurred_at = item.get("occurred_at")
    parsed = None
    if isinstance(occurred_at, str):
        from django.utils.dateparse import parse_datetime

        try:
            parsed = parse_datetime(occurred_at)
        except ValueError:
            parsed = None
    if parsed is None or timezone.is_naive(parsed):
        raise ApplicationError(
            f"{where}'occurred_at' must be an ISO 8601 time with a zone, "
            "e.g. 2026-11-28T10:00:00Z.",
            field="occurred_at",
        )
    if parsed > timezone.now() + timedelta(minutes=5):
        raise ApplicationError(f"{where}'occurred_at' is in the future.", field="occurred_at")
    cleaned["occurred_at"] = parsed
    return cleaned


@transaction.atomic
def activity_report(*, actor: User, items: list[Any] | dict) -> list[Activity]:
    """Record what agents did (one item or a batch); all or nothing. Flags what nothing covered."""
    if not can(actor, Action.REPORT_ACTIVITY):
        raise Forbidden("Only gateways report activity.")
    single = isinstance(items, dict)
    batch = [items] if single else items
    if not isinstance(batch, list) or not batch:
        raise ApplicationError("Send one activity object or a non-empty list of them.")
    if len(batch) > MAX_BATCH:
        raise ApplicationError(f"At most {MAX_BATCH} activities per request.")
    parsed = [_parse_item(item, -1 if single else index) for index, item in enumerate(batch)]
    agents = Agent.objects.in_bulk([p["agent"] for p in parsed], field_name="slug")
    capabilities = Capability.objects.in_bulk([p["capability"] for p in parsed], field_name="key")
    rows = []
    for item in parsed:
        agent, capability = agents.get(item["agent"]), capabilities.get(item["capability"])
        activity = Activity(
            agent=agent,
            agent_slug=item["agent"],
            capability=capability,
            capability_key=item["capability"],
            target=item["target"],
            outcome=item["outcome"],
            occurred_at=item["occurred_at"],
            reported_by=actor,
        )
        if agent is None:
            activity.flag_reason = f"Unknown agent '{item['agent']}'."
        elif capability is None:
            activity.flag_reason = f"Unknown capability '{item['capability']}'."
        else:
            activity.covered_by = coverage_at(agent, capability, item["occurred_at"]) or ""
            if not activity.covered_by:
                activity.flag_reason = (
                    f"No standing allow, grant, exception or allow decision covered "
                    f"{agent.slug} {capability.key} at {item['occurred_at']:%Y-%m-%d %H:%M:%S}Z."
                )
        activity.flagged = bool(activity.flag_reason)
        activity.review_status = (
            ReviewStatus.PENDING if activity.flagged else ReviewStatus.NOT_NEEDED
        )
        rows.append(activity)
    with audit_actor(actor):
        return Activity.objects.bulk_create(rows)


@transaction.atomic
def activity_review(*, actor: User, activity: Activity, verdict: str, note: str) -> Activity:
    """Security closes a flag: the action was expected, or it is an incident."""
    if not can(actor, Action.REVIEW_ACTIVITY):
        raise Forbidden("Only security reviews flagged activity.")
    if verdict not in (ReviewStatus.EXPECTED, ReviewStatus.INCIDENT):
        raise ApplicationError("verdict is 'expected' or 'incident'.", field="verdict")
    if not isinstance(note, str) or not note.strip():
        raise ApplicationError("Say why in a note: it is the evidence of the review.", field="note")
    activity = Activity.objects.select_for_update().get(pk=activity.pk)
    if verdict not in ALLOWED_REVIEW[ReviewStatus(activity.review_status)]:
        raise ApplicationError(
            f"This activity is '{activity.review_status}'; it cannot be reviewed again.",
            code="invalid_transition",
        )
    activity.review_status = verdict
    activity.review_note = note.strip()
    activity.reviewed_by = actor
    activity.reviewed_at = timezone.now()
    with audit_actor(actor):
        activity.save(update_fields=["review_status", "review_note", "reviewed_by", "reviewed_at"])
    return activity
