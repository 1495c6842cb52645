"""Collector that reads policy exceptions: AGC-07 (exception governance).

"In force during the period": approved at some point (active, expired or revoked), its
window [starts_at, expires_at) overlaps the period, and not revoked before the period began.
"""

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import (
    Count,
    DateTimeField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.template.defaultfilters import pluralize
from django.utils import timezone

from approvals.selectors import distinct_approvers
from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, failing_first, tally
from compliance.collectors.links import url_or_blank
from compliance.collectors.people import security_people
from compliance.collectors.population import Population, Rows, Sample, each
from compliance.period import Period
from exceptions.limits import ELEVATED_RISKS, MAX_DAYS
from exceptions.models import (
    ExceptionApproval,
    ExceptionStatus,
    PolicyException,
)

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
        "approvers than it needed when filed (two for high and critical), approved by its "
        "requester, longer than the maximum for its risk, no compensating controls for high "
        "or critical risk, still marked active after it expired, or in force at the same "
        "time as another exception for the same agent and capability (a renewal continuing "
        "from its predecessor's expiry only touches it)"
    )

    def collect(self, period: Period) -> Evidence:
        elevated = Q(risk__in=list(ELEVATED_RISKS))
        exceptions = _with_overlaps(_with_approvals(exceptions_in_force_during(period)))
        under, uncompensated, not_closed, failing = _failures()
        evidence = tally(
            exceptions,
            failing,
            {
                "exceptions_in_force": Count("pk"),
                "high_or_critical": elevated,
                "under_approved": under,
                "approved_by_requester": Q(self_approved=True),
                "longer_than_risk_maximum": _too_long(),
                "without_compensating_controls": uncompensated,
                "expired_but_not_closed": not_closed,
                "overlapping_another_exception": Q(overlaps__isnull=False),
                "revoked": Q(revoked_at__isnull=False),
            },
        )
        evidence.samples = [
            _exception_sample(row) for row in _exception_rows(exceptions, failing)[:SAMPLE_SIZE]
        ]
        return evidence

    def population(self, period: Period) -> Population:
        exceptions = _with_overlaps(_with_approvals(exceptions_in_force_during(period)))
        failing = _failures()[-1]
        return Population(Rows(_exception_rows(exceptions, failing), each(_exception_sample)))


def _failures() -> tuple[Q, Q, Q, Q]:
    """(under-approved, uncompensated, not closed, failing: any of the rule's failures), on
    `_with_approvals`'s and `_with_overlaps`' annotations."""
    under = Q(approvers__lt=F("needed"))
    uncompensated = Q(risk__in=list(ELEVATED_RISKS)) & Q(compensating_controls="")
    not_closed = Q(status=ExceptionStatus.ACTIVE, expires_at__lte=timezone.now())
    failing = under | Q(self_approved=True) | _too_long() | uncompensated | not_closed
    failing |= Q(overlaps__isnull=False)
    return under, uncompensated, not_closed, failing


def _with_approvals(
    exceptions: QuerySet[PolicyException],
) -> "QuerySet[WithAnnotations[PolicyException]]":
    """Each exception with its distinct security `approvers` (not its requester), the number
    `needed`, whether it was `self_approved`, and its `span`."""
    approvals = ExceptionApproval.objects.filter(
        exception=OuterRef("pk"), approver__in=security_people()
    ).exclude(approver=OuterRef("requested_by"))
    return exceptions.annotate(
        approvers=distinct_approvers(approvals, "exception"),
        # The number stored when it was filed (exceptions.services.required_approvals_for),
        # not the rule recomputed today: a later change of the rule judges no old exception.
        needed=Greatest(F("required_approvals"), Value(1)),
        self_approved=Exists(
            ExceptionApproval.objects.filter(
                exception=OuterRef("pk"), approver=OuterRef("requested_by")
            )
        ),
        # Not `length`: that is a read-only property of PolicyException.
        span=ExpressionWrapper(F("expires_at") - F("starts_at"), output_field=DurationField()),
    )


def _in_force_until(ref: type[F] | type[OuterRef] = F) -> Least:
    """When an exception stopped being in force: its expiry, or its revocation when earlier."""
    when = DateTimeField()
    return Least(
        ref("expires_at"),
        Coalesce(ref("revoked_at"), ref("expires_at"), output_field=when),
        output_field=when,
    )


def _with_overlaps(
    exceptions: "QuerySet[WithAnnotations[PolicyException]]",
) -> "QuerySet[WithAnnotations[PolicyException]]":
    """Each exception with the id of another exception for the same agent and capability that
    was in force at the same time as it (`overlaps`, the lowest such id; None: none): approved
    at some point, the later of their starts before the earlier of their ends (revocation ends
    one early). A renewal starts when its predecessor expires: it touches it, never overlaps.
    An exception naming no capability overlaps nothing (NULL matches no capability)."""
    others = (
        PolicyException.objects.filter(
            status__in=PolicyException.EVER_ACTIVE_STATUSES,
            agent=OuterRef("agent"),
            capability=OuterRef("capability"),
        )
        .exclude(pk=OuterRef("pk"))
        .annotate(
            shared_from=Greatest("starts_at", OuterRef("starts_at"), output_field=DateTimeField()),
            shared_until=Least(
                _in_force_until(), _in_force_until(OuterRef), output_field=DateTimeField()
            ),
        )
        .filter(shared_from__lt=F("shared_until"))
        .order_by("pk")
        .values("pk")[:1]
    )
    return exceptions.annotate(overlaps=Subquery(others))


def _exception_rows(
    exceptions: "QuerySet[WithAnnotations[PolicyException]]", failing: Q
) -> QuerySet[Any]:
    """The failing exceptions first."""
    return (
        failing_first(exceptions, failing, "-starts_at", "-pk").values_list(
            "pk", "title", "risk", "agent__slug", "capability__key", "approvers",
            "starts_at", "expires_at", "overlaps", "failing",
        )
    )  # fmt: skip


def _exception_sample(row: tuple) -> Sample:
    pk, title, risk, agent, capability, approvers, starts, expires, overlaps, fails = row
    overlapping = f", in force with exception #{overlaps}" if overlaps else ""
    return Sample(
        kind="exception",
        id=str(pk),
        label=f"exception #{pk} {title} ({risk}, {agent} {capability or 'controls'}): "
        f"{starts:%Y-%m-%d} to {expires:%Y-%m-%d}, {approvers} approver{pluralize(approvers)}"
        f"{overlapping}",
        url=exception_url(pk),
        failed=bool(fails),
    )
