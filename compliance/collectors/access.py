"""Collectors that read access requests, approvals and grants: AGC-03, AGC-04."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from access.models import AccessRequest, Approval, Grant, RequestStatus
from approvals.selectors import distinct_approvers
from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, failing_first, tally
from compliance.collectors.links import agent_url, url_or_blank
from compliance.collectors.people import security_people
from compliance.collectors.policy import high_risk_slots, versions_in_force
from compliance.collectors.population import Population, Rows, Sample, each
from compliance.period import Period
from registry.models import Capability, Effect, PolicyRule, PolicyStatus, PolicyVersion, Tier

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

HOUR = timedelta(hours=1)


def _hours(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds() / 3600, 2)


class GrantLimits(TypedDict):
    """What `grants_with_limits` annotates on each grant."""

    judged_under: int | None
    limit_hours: int | None
    length: timedelta
    limit: timedelta | None
    over_limit: int


def grants_with_limits(period: Period) -> "QuerySet[WithAnnotations[Grant, GrantLimits]]":
    """Grants that started in the period, with their length and the longest they could be.

    The limit is the rule's `max_duration_hours` for the agent's tier and the capability,
    in the policy version the request was judged under (a grant without a request: the
    version in force when it started); break-glass grants are bounded by
    BREAK_GLASS_MAX_HOURS. No limit means no jit/approval rule allowed a grant at all.
    """
    in_force_then = (
        PolicyVersion.objects.filter(
            status=PolicyStatus.PUBLISHED, published_at__lte=OuterRef("starts_at")
        )
        .order_by("-number")
        .values("number")[:1]
    )
    rule_max = PolicyRule.objects.filter(
        version__number=OuterRef("judged_under"),
        tier=OuterRef("agent__tier"),
        capability_id=OuterRef("capability_id"),
    ).values("max_duration_hours")[:1]
    return (
        Grant.objects.filter(starts_at__gte=period.since, starts_at__lt=period.until)
        .annotate(
            judged_under=Coalesce("request__policy_version", Subquery(in_force_then)),
            limit_hours=Case(
                When(request__break_glass=True, then=Value(settings.BREAK_GLASS_MAX_HOURS)),
                default=Subquery(rule_max),
                output_field=IntegerField(),
            ),
            length=ExpressionWrapper(
                F("expires_at") - F("starts_at"), output_field=DurationField()
            ),
            limit=ExpressionWrapper(F("limit_hours") * Value(HOUR), output_field=DurationField()),
        )
        .annotate(
            over_limit=Case(
                When(limit_hours__isnull=True, then=Value(1)),
                When(length__gt=F("limit"), then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
    )


class JustInTimeAccess(Collector):
    ref_id = "AGC-03"
    checks = (
        "checked: grants that started in the period, and every (policy version in force, "
        "tier, high-risk capability); failed: a grant longer than its rule's maximum (or "
        "issued where no jit/approval rule allows one), a standing allow on a high-risk "
        "capability"
    )

    def collect(self, period: Period) -> Evidence:
        grants = grants_with_limits(period)
        over_limit = Q(over_limit=1)
        evidence = tally(
            grants,
            over_limit,
            {
                "grants_issued": Count("pk"),
                "grants_via_request": Q(request__isnull=False),
                "grants_over_rule_maximum": over_limit,
                "break_glass_grants": Q(request__break_glass=True),
                "grants_revoked": Q(revoked_at__isnull=False),
                "longest_grant_hours": Max("length"),
            },
        )
        versions = versions_in_force(period)
        slots = versions.count() * len(Tier.values)
        slots *= Capability.objects.filter(high_risk=True).count()
        standing = PolicyRule.objects.filter(
            version__in=versions, capability__high_risk=True, effect=Effect.ALLOW
        ).count()
        evidence.samples = [_grant_sample(row) for row in _grant_rows(grants)[:SAMPLE_SIZE]]
        figures = evidence.figures
        figures["longest_grant_hours"] = _hours(figures["longest_grant_hours"])
        figures["standing_allow_on_high_risk"] = standing
        # Every (version in force, tier, high-risk capability) slot is checked too, and a
        # standing allow in one fails it.
        evidence.checked += slots
        evidence.failed += standing
        return evidence

    def population(self, period: Period) -> Population:
        """The grants (over their limit first), then every high-risk slot of the policy."""
        return Population(
            Rows(_grant_rows(grants_with_limits(period)), each(_grant_sample)),
            high_risk_slots(period, failing={Effect.ALLOW}),
        )


def _grant_rows(grants: "QuerySet[WithAnnotations[Grant, GrantLimits]]") -> QuerySet[Any]:
    return grants.order_by("-over_limit", "-starts_at", "-pk").values_list(
        "pk",
        "agent__slug",
        "capability__key",
        "length",
        "limit_hours",
        "over_limit",
        "request_id",
        "starts_at",
        "revoked_at",
    )


def _grant_sample(row: tuple) -> Sample:
    """A grant as issued (what AGC-03 judges), and when it was revoked, if it was."""
    pk, agent, capability, length, limit, over, request_id, starts, revoked = row
    return Sample(
        kind="grant",
        id=str(pk),
        label=f"grant #{pk}: {agent} {capability}, from {starts:%Y-%m-%d %H:%M} UTC for "
        f"{_hours(length)} h "
        + (f"(max {limit} h)" if limit is not None else "(no rule allows a grant)")
        + (f", revoked {revoked:%Y-%m-%d %H:%M} UTC" if revoked else ""),
        url=url_or_blank("access:request-detail", pk=request_id)
        if request_id
        else agent_url(agent),
        failed=bool(over),
    )


class HighRiskApproval(Collector):
    ref_id = "AGC-04"
    checks = (
        "checked: high-risk access requests approved in the period; failed: fewer distinct "
        "approvers than the request needed when filed (at least one), an approver who asked "
        "for it, confirmed what the agent filed, owns the agent or is not security, or a "
        "break-glass grant never reviewed "
        "(or reviewed by its requester or the agent's owner)"
    )

    def collect(self, period: Period) -> Evidence:
        requests, failing = _high_risk_approved(period), _request_failing()
        unreviewed = _unreviewed()
        evidence = tally(
            requests,
            failing,
            {
                "high_risk_requests_approved": Count("pk"),
                "production_requests": Q(agent__tier=Tier.PRODUCTION),
                "dual_approved": Q(approvers__gte=2),
                "under_approved": Q(break_glass=False, approvers__lt=F("needed")),
                "self_or_owner_approved": Q(self_approved=True),
                "break_glass": Q(break_glass=True),
                "break_glass_unreviewed": Q(break_glass=True) & unreviewed,
            },
        )
        evidence.figures["high_risk_requests_denied"] = AccessRequest.objects.filter(
            capability__high_risk=True,
            status=RequestStatus.DENIED,
            decided_at__gte=period.since,
            decided_at__lt=period.until,
        ).count()
        evidence.samples = _request_samples(list(_request_rows(requests, failing)[:SAMPLE_SIZE]))
        return evidence

    def population(self, period: Period) -> Population:
        requests, failing = _high_risk_approved(period), _request_failing()
        return Population(Rows(_request_rows(requests, failing), _request_samples))


def _high_risk_approved(period: Period) -> "QuerySet[WithAnnotations[AccessRequest]]":
    """High-risk requests approved in the period, with their distinct `approvers`, the
    number `needed`, and whether one was `self_approved` (asked for it, owns the agent, or
    confirmed what the agent filed) or an `outsider` to security."""
    approvals = Approval.objects.filter(request=OuterRef("pk"))
    # The number stored when the request was filed (access.services.required_approvals_for),
    # not the rule recomputed today: the agent's tier or the capability may have changed
    # since. At least one, so that a high-risk request approved at once (a jit rule, which
    # stores 0) counts as approved by nobody, as it is.
    needed = Greatest(F("required_approvals"), Value(1))
    return AccessRequest.objects.filter(
        capability__high_risk=True,
        status=RequestStatus.APPROVED,
        decided_at__gte=period.since,
        decided_at__lt=period.until,
    ).annotate(
        approvers=distinct_approvers(approvals, "request"),
        needed=needed,
        self_approved=Exists(
            approvals.filter(
                Q(approver=OuterRef("requested_by"))
                | Q(approver=OuterRef("agent__owner"))
                | Q(approver=OuterRef("confirmed_by"))
            )
        ),
        outsider=Exists(approvals.exclude(approver__in=security_people())),
    )


def _unreviewed() -> Q:
    """Never reviewed, or reviewed by someone separation of duties excludes: its requester or
    the agent's owner (approvals.permissions.approval_refusal)."""
    return (
        Q(break_glass_reviewed_by__isnull=True)
        | Q(break_glass_reviewed_by=F("requested_by"))
        | Q(break_glass_reviewed_by=F("agent__owner"))
    )


def _request_failing() -> Q:
    """Needs `_high_risk_approved`'s annotations."""
    short = Q(approvers__lt=F("needed")) | Q(self_approved=True) | Q(outsider=True)
    return (Q(break_glass=True) & _unreviewed()) | (Q(break_glass=False) & short)


def _request_rows(
    requests: "QuerySet[WithAnnotations[AccessRequest]]", failing: Q
) -> QuerySet[Any]:
    """The failing requests first."""
    return failing_first(requests, failing, "-decided_at", "-pk").values_list(
        "pk",
        "agent__slug",
        "agent__tier",
        "capability__key",
        "requested_by__username",
        "break_glass",
        "failing",
    )


def _request_samples(rows: list[tuple]) -> list[Sample]:
    """Requests with who approved each (one query for the batch)."""
    names: dict[int, list[str]] = {pk: [] for pk, *_ in rows}
    for request_id, username in (
        Approval.objects.filter(request_id__in=names)
        .order_by("created_at")
        .values_list("request_id", "approver__username")
    ):
        names[request_id].append(username)
    return [
        Sample(
            kind="access_request",
            id=str(pk),
            label=f"request #{pk}: {agent} ({tier}) {capability} asked by {asker}; "
            + ("break-glass" if glass else f"approved by {', '.join(names[pk]) or 'nobody'}"),
            url=url_or_blank("access:request-detail", pk=pk),
            failed=bool(fails),
        )
        for pk, agent, tier, capability, asker, glass, fails in rows
    ]
