"""The reads every approval workflow shares: "awaiting me", and how many people approved."""

from typing import TypeVar, cast

from django.db.models import Count, Exists, ManyToOneRel, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from approvals.models import PENDING, ApprovalWorkflow
from kernel.permissions import Action, AnyUser, can

S = TypeVar("S", bound=ApprovalWorkflow)


def awaiting_approval_by(
    user: AnyUser, visible: QuerySet[S], *, owner_field: str = "agent__owner"
) -> QuerySet[S]:
    """Of `visible`, the pending subjects this security member may approve now: oldest first.

    Never what they asked for, what is for something they own (`owner_field`), or what they
    approved already. The same rules as the workflows' approval refusals, as a query.
    """
    if not can(user, Action.APPROVE):
        return visible.none()
    approvals = cast(ManyToOneRel, visible.model._meta.get_field("approvals"))
    mine = approvals.related_model._default_manager.filter(
        **{approvals.field.name: OuterRef("pk")}, approver=user
    )
    return (
        visible.filter(status=PENDING)
        .exclude(requested_by=user)
        .exclude(**{owner_field: user})
        .exclude(Exists(mine))
        .order_by("created_at", "id")
    )


def distinct_approvers(approvals: QuerySet, subject: str) -> Coalesce:
    """How many different people made `approvals` (approval rows filtered on their `subject`
    field, e.g. `request=OuterRef("pk")`), as an annotation of the subject: 0 when none."""
    counted = (
        approvals.order_by()
        .values(subject)
        .annotate(n=Count("approver", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted), Value(0))
