"""Reads of exceptions: in force at a moment, scoped lists, the approval queue.

"In force" is computed from times and `revoked_at`, so revocation and expiry take effect at
the moment they happen, whether or not the periodic task has marked the row `expired` yet.
"""

from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from exceptions import permissions
from exceptions.models import ExceptionApproval, ExceptionStatus, PolicyException, Risk
from kernel.errors import NotFound
from kernel.permissions import Action, AnyUser, can

# An exception expiring within this many days is "expiring soon" (list, dashboard, reminders).
EXPIRING_SOON_DAYS = 7


def in_force_q(at: datetime | None = None) -> Q:
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


def exception_active_for(
    *, agent_id: int, capability_id: int, at: datetime | None = None
) -> PolicyException | None:
    """The exception covering (agent, capability) at `at`, in one query; the oldest if several.

    The decision API calls this to allow what the policy denies or gates behind a grant.
    """
    return (
        PolicyException.objects.filter(
            in_force_q(at), agent_id=agent_id, capability_id=capability_id
        )
        .order_by("pk")
        .first()
    )


def is_in_force(exception: PolicyException, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    if exception.status not in PolicyException.EVER_ACTIVE_STATUSES:
        return False
    if exception.revoked_at is not None and exception.revoked_at <= at:
        return False
    return exception.starts_at <= at < exception.expires_at


def is_running(exception: PolicyException, at: datetime | None = None) -> bool:
    """Approved and not over yet: in force now, or starting later. Revocable and renewable."""
    at = at or timezone.now()
    return (
        exception.status == ExceptionStatus.ACTIVE
        and exception.revoked_at is None
        and exception.expires_at > at
    )


def is_expiring_soon(exception: PolicyException, at: datetime | None = None) -> bool:
    at = at or timezone.now()
    return is_running(exception, at) and exception.expires_at <= at + timedelta(
        days=EXPIRING_SOON_DAYS
    )


def expiring_within_q(days: int, now: datetime | None = None) -> Q:
    """Approved, not revoked, still running now, and ending within `days` days."""
    now = now or timezone.now()
    return Q(
        status=ExceptionStatus.ACTIVE,
        revoked_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=days),
    )


def exceptions_visible_to(user: AnyUser) -> QuerySet[PolicyException]:
    """What the list page and endpoint show: scoped, with what each row displays, newest first."""
    return (
        permissions.exceptions_visible_to(user)
        .select_related("agent", "capability", "requested_by")
        .prefetch_related(
            Prefetch("approvals", queryset=ExceptionApproval.objects.select_related("approver")),
            "controls",
        )
        .order_by("-created_at", "-id")
    )


def exception_get_for_user(user: AnyUser, pk: int | str) -> PolicyException:
    """One exception this person may read; anything else (forged, foreign) is a 404."""
    try:
        return (
            exceptions_visible_to(user)
            .select_related("agent__owner", "agent__team", "rejected_by", "revoked_by", "renews")
            .prefetch_related(
                Prefetch("renewals", queryset=PolicyException.objects.order_by("created_at"))
            )
            .get(pk=int(pk))
        )
    except (PolicyException.DoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(f"No exception #{pk}.") from None


def exceptions_awaiting(user: AnyUser) -> QuerySet[PolicyException]:
    """Pending exceptions this security member may approve now: oldest first.

    Never ones they requested, ones for agents they own, or ones they approved already.
    """
    if not can(user, Action.APPROVE):
        return PolicyException.objects.none()
    mine = ExceptionApproval.objects.filter(exception=OuterRef("pk"), approver=user)
    return (
        exceptions_visible_to(user)
        .filter(status=ExceptionStatus.PENDING)
        .exclude(requested_by=user)
        .exclude(agent__owner=user)
        .exclude(Exists(mine))
        .order_by("created_at", "id")
    )


def exceptions_in_force_for_agent(agent_id: int, user: AnyUser) -> QuerySet[PolicyException]:
    """Approved exceptions of an agent not yet over (in force, or starting later)."""
    now = timezone.now()
    return (
        permissions.exceptions_visible_to(user)
        .filter(
            agent_id=agent_id,
            status=ExceptionStatus.ACTIVE,
            revoked_at__isnull=True,
            expires_at__gt=now,
        )
        .select_related("capability")
        .order_by("expires_at", "id")
    )


def active_counts_by_risk(user: AnyUser) -> dict[str, int]:
    """In force now, per risk, in one aggregate query (zeros included)."""
    now = timezone.now()
    return permissions.exceptions_visible_to(user).aggregate(
        **{risk.value: Count("pk", filter=in_force_q(now) & Q(risk=risk.value)) for risk in Risk},
        expiring=Count("pk", filter=expiring_within_q(EXPIRING_SOON_DAYS, now)),
    )


def renewal_chain(exception: PolicyException) -> list[PolicyException]:
    """Older exceptions this one renews, nearest first (one query per link; chains are short)."""
    chain = []
    current = exception.renews
    while current is not None and len(chain) < 50:
        chain.append(current)
        current = current.renews
    return chain
