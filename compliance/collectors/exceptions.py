"""Collector that reads policy exceptions: AGC-07 (exception governance).

"In force during the period": approved at some point (active, expired or revoked), its
window [starts_at, expires_at) overlaps the period, and not revoked before the period began.
"""

from datetime import timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, Sample
from compliance.collectors.links import url_or_blank
from compliance.period import Period
from exceptions.limits import ELEVATED_RISKS, MAX_DAYS
from exceptions.models import (
    ExceptionApproval,
    ExceptionStatus,
    PolicyException,
)
from kernel.roles import Role

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def exceptions_in_force_during(period: Period) -> QuerySet[PolicyException]:
    return PolicyException.objects.filter(
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=period.since),
        status__in=PolicyException.EVER_ACTIVE_STATUSES,
        starts_at__lt=period.until,
        expires_at__gt=period.since,
    )


def exception_url(pk: int) -> str:
    return url_or_blank("exceptions:detail", pk=pk)


def _security() -> QuerySet[User]:
    return User.objects.filter(Q(groups__name=Role.SECURITY) | Q(is_superuser=True))


def _too_long() -> Q:
    """Longer than the maximum for its risk (low 180 days ... critical 14); needs `span`."""
    longer = Q()
    for risk, days in MAX_DAYS.items():
        longer |= Q(risk=risk, span__gt=timedelta(days=days))
    return longer


class ExceptionGovernance(Collector):
    ref_id = "AGC-07"
    checks = (
        "checked: exceptions in force during the period; failed: fewer distinct security "
        "approvers than its risk needs (two for high and critical), approved by its "
        "requester, longer than the maximum for its risk, no compensating controls for high "
        "or critical risk, or still marked active after it expired"
    )

    def collect(self, period: Period) -> Evidence:
        elevated = Q(risk__in=list(ELEVATED_RISKS))
        exceptions = _with_approvals(exceptions_in_force_during(period), elevated)
        under = Q(approvers__lt=F("needed"))
        uncompensated = elevated & Q(compensating_controls="")
        not_closed = Q(status=ExceptionStatus.ACTIVE, expires_at__lte=timezone.now())
        failing = under | Q(self_approved=True) | _too_long() | uncompensated | not_closed
        figures = exceptions.aggregate(
            n_checked=Count("pk"),
            n_failed=Count("pk", filter=failing),
            n_elevated=Count("pk", filter=elevated),
            n_under=Count("pk", filter=under),
            n_self=Count("pk", filter=Q(self_approved=True)),
            n_long=Count("pk", filter=_too_long()),
            n_uncompensated=Count("pk", filter=uncompensated),
            n_not_closed=Count("pk", filter=not_closed),
            n_revoked=Count("pk", filter=Q(revoked_at__isnull=False)),
        )
        samples = _exception_samples(exceptions, failing)
        return Evidence(
            checked=figures["n_checked"],
            failed=figures["n_failed"],
            figures={
                "exceptions_in_force": figures["n_checked"],
                "high_or_critical": figures["n_elevated"],
                "under_approved": figures["n_under"],
                "approved_by_requester": figures["n_self"],
                "longer_than_risk_maximum": figures["n_long"],
                "without_compensating_controls": figures["n_uncompensated"],
                "expired_but_not_closed": figures["n_not_closed"],
                "revoked": figures["n_revoked"],
            },
            samples=samples,
        )


def _with_approvals(
    exceptions: QuerySet[PolicyException], elevated: Q
) -> "QuerySet[WithAnnotations[PolicyException]]":
    """Each exception with its distinct security `approvers` (not its requester), the number
    `needed`, whether it was `self_approved`, and its `span`."""
    approvals = ExceptionApproval.objects.filter(
        exception=OuterRef("pk"), approver__in=_security()
    ).exclude(approver=OuterRef("requested_by"))
    approvers = (
        approvals.order_by()
        .values("exception")
        .annotate(n=Count("approver", distinct=True))
        .values("n")
    )
    return exceptions.annotate(
        approvers=Coalesce(Subquery(approvers), Value(0)),
        needed=Case(When(elevated, then=Value(2)), default=Value(1), output_field=IntegerField()),
        self_approved=Exists(
            ExceptionApproval.objects.filter(
                exception=OuterRef("pk"), approver=OuterRef("requested_by")
            )
        ),
        # Not `length`: that is a read-only property of PolicyException.
        span=ExpressionWrapper(F("expires_at") - F("starts_at"), output_field=DurationField()),
    )


def _exception_samples(
    exceptions: "QuerySet[WithAnnotations[PolicyException]]", failing: Q
) -> list[Sample]:
    """The failing exceptions first."""
    rows = (
        exceptions.annotate(failing=Case(When(failing, then=Value(1)), default=Value(0)))
        .order_by("-failing", "-starts_at", "-pk")
        .values_list(
            "pk", "title", "risk", "agent__slug", "capability__key", "approvers",
            "starts_at", "expires_at", "failing",
        )[:SAMPLE_SIZE]
    )  # fmt: skip
    return [
        Sample(
            kind="exception",
            id=str(pk),
            label=f"exception #{pk} {title} ({risk}, {agent} {capability or 'controls'}): "
            f"{starts:%Y-%m-%d} to {expires:%Y-%m-%d}, {approvers} approver(s)",
            url=exception_url(pk),
            failed=bool(fails),
        )
        for pk, title, risk, agent, capability, approvers, starts, expires, fails in rows
    ]
