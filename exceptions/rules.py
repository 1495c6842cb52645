"""When an exception is in force, and when it is still running: each rule stated once, here.

"In force" is computed from times and `revoked_at`, so revocation and expiry take effect at
the moment they happen, whether or not the periodic task has marked the row `expired` yet.
The rule has three forms: `exception_in_force_q` for the ORM, `exception_is_in_force` for an
exception already loaded, and the SQL of the decision query (decisions.selectors), all checked
against one table of cases (tests/decisions/test_active_rules.py).
"""

from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from exceptions.limits import (
    ELEVATED_RISKS,
    EXPIRING_SOON_DAYS,
    MAX_DAYS,
    START_AHEAD_MAX_DAYS,
    START_TOLERANCE,
)
from exceptions.models import ExceptionStatus, PolicyException, Risk
from kernel.validation import has_visible_text
from registry.models import Agent, Capability, Effect, Tier
from registry.selectors.policy import published_rule


def exception_in_force_q(at: datetime | None = None) -> Q:
    """Approved, not revoked by `at`, and starts_at <= at < expires_at.

    For `at` = now this is exactly "status active, not revoked, inside its window"; for a past
    moment it also counts rows that have since expired or been revoked.
    """
    at = at or timezone.now()
    return Q(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at),
        status__in=PolicyException.EVER_ACTIVE_STATUSES,
        starts_at__lte=at,
        expires_at__gt=at,
    )


def exception_is_in_force(exception: PolicyException, at: datetime | None = None) -> bool:
    """`exception_in_force_q`, for an exception already loaded."""
    at = at or timezone.now()
    if exception.status not in PolicyException.EVER_ACTIVE_STATUSES:
        return False
    if exception.revoked_at is not None and exception.revoked_at <= at:
        return False
    return exception.starts_at <= at < exception.expires_at


def exception_running_q(now: datetime | None = None) -> Q:
    """Approved and not over yet: in force now, or starting later. Revocable and renewable."""
    now = now or timezone.now()
    return Q(status=ExceptionStatus.ACTIVE, revoked_at__isnull=True, expires_at__gt=now)


def exception_is_running(exception: PolicyException, now: datetime | None = None) -> bool:
    """`exception_running_q`, for an exception already loaded."""
    now = now or timezone.now()
    return (
        exception.status == ExceptionStatus.ACTIVE
        and exception.revoked_at is None
        and exception.expires_at > now
    )


def windows_overlap_q(starts_at: datetime, expires_at: datetime) -> Q:
    """Exceptions whose window [starts_at, expires_at) shares a moment with the one given. One
    ending exactly when the other starts only touches it (a renewal continues from there)."""
    return Q(starts_at__lt=expires_at, expires_at__gt=starts_at)


def overlapping_exception(exception: PolicyException, now: datetime) -> PolicyException | None:
    """A running exception (exception_running_q) for the same agent and capability whose window
    overlaps this one's: stacking it would outlast MAX_DAYS without a renewal's checks. Never
    this one, nor for a renewal the exception it renews or that one's other renewals (the
    renewal rules speak for those: exceptions.renewals). None when there is none."""
    if exception.capability_id is None:
        return None
    others = PolicyException.objects.filter(
        exception_running_q(now),
        windows_overlap_q(exception.starts_at, exception.expires_at),
        agent_id=exception.agent_id,
        capability_id=exception.capability_id,
    )
    if exception.pk is not None:
        others = others.exclude(pk=exception.pk)
    if exception.renews_id is not None:
        others = others.exclude(Q(pk=exception.renews_id) | Q(renews_id=exception.renews_id))
    return others.select_related("agent", "capability").order_by("starts_at", "pk").first()


def overlap_refusal(other: PolicyException, now: datetime) -> str:
    """What filing or approving an exception that overlaps `other` is told: go on by renewing
    `other` (once it is in force, when it has not started yet)."""
    covers = (
        f"Exception #{other.pk} for {other.capability.key if other.capability else 'controls'} "
        f"on {other.agent.slug} already covers {other.starts_at:%Y-%m-%d %H:%M} to "
        f"{other.expires_at:%Y-%m-%d %H:%M} UTC"
    )
    if other.starts_at > now:
        return f"{covers}: renew it once it is in force instead."
    return f"{covers}: renew it instead."


def overlap_field(other: PolicyException, starts_at: datetime) -> str:
    """The field an overlap with `other` is shown on: the end when `other` starts later (this
    one runs into it), else the start (this one starts inside it)."""
    return "expires_at" if other.starts_at > starts_at else "starts_at"


def exception_expiring_within_q(days: int, now: datetime | None = None) -> Q:
    """Running now and ending within `days` days."""
    now = now or timezone.now()
    return exception_running_q(now) & Q(expires_at__lte=now + timedelta(days=days))


def exception_ending_after_q(days: int, now: datetime | None = None) -> Q:
    """Running now and ending more than `days` days from now (the rest of the running ones)."""
    now = now or timezone.now()
    return exception_running_q(now) & Q(expires_at__gt=now + timedelta(days=days))


def exception_is_expiring_soon(exception: PolicyException, now: datetime | None = None) -> bool:
    """`exception_expiring_within_q(EXPIRING_SOON_DAYS)`, for an exception already loaded."""
    now = now or timezone.now()
    return exception_is_running(exception, now) and exception.expires_at <= now + timedelta(
        days=EXPIRING_SOON_DAYS
    )


def standing_allow_refusal(agent: Agent, capability: Capability | None) -> str | None:
    """Why an exception for this capability excepts nothing: the published policy allows it
    standing on the agent's tier (an access request is refused the same way). None: fine."""
    if capability is None:
        return None
    version, rule = published_rule(agent.tier, capability)
    if version is None or rule is None or rule.effect != Effect.ALLOW:
        return None
    return (
        f"Nothing to except: policy v{version.number} allows {capability.key} on {agent.tier} "
        "agents standing. If the deviation is from a control, name the controls."
    )


def risk_floor(agent: Agent, capability: Capability) -> str:
    """The lowest risk an exception may claim: `high` for a high-risk capability, `critical`
    for one on a production agent, else `low`. A deviation cannot be rated below what it
    deviates from (that would also buy it a longer window and fewer approvers)."""
    if not capability.high_risk:
        return Risk.LOW
    return Risk.CRITICAL if agent.tier == Tier.PRODUCTION else Risk.HIGH


def risk_floor_refusal(risk: str, agent: Agent, capability: Capability) -> str | None:
    """Why `risk` is too low for this agent and capability, or None when it is at the floor."""
    floor = risk_floor(agent, capability)
    if Risk.values.index(risk) >= Risk.values.index(floor):
        return None
    where = f"on a {agent.tier} agent" if agent.tier == Tier.PRODUCTION else ""
    return (
        f"{capability.key} is a high-risk capability{' ' + where if where else ''}: "
        f"its exceptions are at least {floor} risk (got {risk})."
    )


# What an exception must be when it is filed, each as a refusal in plain words (None when it
# is fine). The form shows them all at once, next to their fields; the service refuses them too.


def start_refusal(starts_at: datetime, now: datetime) -> str | None:
    """An exception starts now or later, never in the past (START_TOLERANCE for clock skew),
    and at most START_AHEAD_MAX_DAYS ahead."""
    if starts_at < now - START_TOLERANCE:
        return (
            "The start is in the past: an exception cannot be backdated. "
            "Leave it empty to start now."
        )
    latest = now + timedelta(days=START_AHEAD_MAX_DAYS)
    if starts_at <= latest:
        return None
    return (
        f"An exception starts at most {START_AHEAD_MAX_DAYS} days ahead: start it on or before "
        f"{latest:%Y-%m-%d %H:%M} UTC, or file it nearer the time."
    )


END_BEFORE_START = "The end must be after the start."
END_IN_PAST = (
    "The end is in the past: with no start given, the exception starts now. "
    "Give an end in the future."
)


def renewal_end_refusal(current_end: datetime) -> str:
    """A renewal's end at or before the end of the exception it continues."""
    return (
        f"A renewal continues from the current end, {current_end:%Y-%m-%d %H:%M} UTC: give a "
        "new expiry after that."
    )


def window_refusal(
    risk: str, starts_at: datetime, expires_at: datetime, early: str = ""
) -> str | None:
    """It ends after it starts (else `early`, the words for the user's case: no start typed,
    a renewal), and at most MAX_DAYS[risk] days after."""
    if expires_at <= starts_at:
        return early or END_BEFORE_START
    limit = MAX_DAYS[risk]
    if expires_at - starts_at <= timedelta(days=limit):
        return None
    return (
        f"A {risk}-risk exception lasts at most {limit} days: end it on or before "
        f"{starts_at + timedelta(days=limit):%Y-%m-%d %H:%M} UTC."
    )


def compensating_controls_refusal(risk: str, compensating_controls: str) -> str | None:
    """High and critical risk say what limits the damage while the exception is in force."""
    if risk not in ELEVATED_RISKS or has_visible_text(compensating_controls):
        return None
    return (
        f"A {risk}-risk exception needs compensating controls: say what limits the damage "
        "while it is in force (e.g. extra monitoring, a narrower scope)."
    )
