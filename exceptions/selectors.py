"""Reads of exceptions: scoped lists, the approval queue, counts for the dashboard.

What "in force" and "running" mean is stated once, in exceptions.rules.
"""

from collections.abc import Mapping

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from approvals.selectors import awaiting_approval_by
from exceptions import permissions
from exceptions.filters import ExceptionFilter
from exceptions.limits import RENEWAL_CHAIN_MAX
from exceptions.models import ExceptionApproval, ExceptionStatus, PolicyException
from exceptions.rules import exception_running_q
from kernel.filtering import filtered
from kernel.lookup import get_by_pk
from kernel.permissions import AnyUser
from registry.models import Agent, Capability


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


def exception_list(
    user: AnyUser, *, filters: Mapping[str, str] | None = None
) -> QuerySet[PolicyException]:
    """The exceptions this person sees, narrowed by ExceptionFilter's query parameters (a bad
    value raises InvalidFilters)."""
    return filtered(ExceptionFilter, exceptions_visible_to(user), filters, user=user)


def exception_get_for_user(user: AnyUser, pk: int | str) -> PolicyException:
    """One exception this person may read; anything else (forged, foreign) is a 404."""
    visible = (
        exceptions_visible_to(user)
        .select_related("agent__owner", "agent__team", "rejected_by", "revoked_by", "renews")
        .prefetch_related(
            Prefetch("renewals", queryset=PolicyException.objects.order_by("created_at"))
        )
    )
    return get_by_pk(visible, pk, f"No exception #{pk}.")


def exceptions_awaiting(user: AnyUser) -> QuerySet[PolicyException]:
    """Pending exceptions this security member may approve now: oldest first.

    Never ones they requested, ones for agents they own, or ones they approved already.
    """
    return awaiting_approval_by(user, exceptions_visible_to(user))


def exceptions_open_for_agent(agent_id: int, user: AnyUser) -> QuerySet[PolicyException]:
    """An agent's exceptions still open: approved and not over (in force, or starting later)
    and those awaiting approval (with `approved`, how many approvals they have)."""
    now = timezone.now()
    return (
        permissions.exceptions_visible_to(user)
        .filter(exception_running_q(now) | Q(status=ExceptionStatus.PENDING), agent_id=agent_id)
        .select_related("capability")
        .annotate(approved=Count("approvals", distinct=True))
        .order_by("expires_at", "id")
    )


def renewal_chain(exception: PolicyException) -> list[PolicyException]:
    """Older exceptions this one renews, nearest first (one query per link; chains are short)."""
    chain: list[PolicyException] = []
    current = exception.renews
    while current is not None and len(chain) < RENEWAL_CHAIN_MAX:
        chain.append(current)
        current = current.renews
    return chain


def pending_exception_for(agent: Agent, capability: Capability) -> int | None:
    """The id of the exception for this agent and capability that waits for approval, if any
    (one pending per deviation)."""
    return (
        PolicyException.objects.filter(
            agent=agent, capability=capability, status=ExceptionStatus.PENDING
        )
        .values_list("pk", flat=True)
        .first()
    )
