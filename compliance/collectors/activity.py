"""Collectors that read decisions and reported activity: AGC-05 (logging), AGC-10 (drift)."""

from datetime import timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Q, QuerySet

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, Sample, tally
from compliance.collectors.links import agent_url
from compliance.period import Period
from decisions.models import Activity, Decision, DecisionOutcome, ReviewStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Logged(TypedDict):
    logged: bool


class TrustBoundaryLogging(Collector):
    ref_id = "AGC-05"
    checks = (
        "checked: decisions recorded and agent actions reported in the period; failed: a "
        "reported action with no decision recorded for that agent and capability shortly "
        "before it (DECISION_COVERS_ACTIVITY_SECONDS)"
    )

    def collect(self, period: Period) -> Evidence:
        in_period = Q(decided_at__gte=period.since, decided_at__lt=period.until)
        decisions = Decision.objects.filter(in_period).aggregate(
            recorded=Count("pk"),
            allowed=Count("pk", filter=Q(decision=DecisionOutcome.ALLOW)),
            denied=Count("pk", filter=Q(decision=DecisionOutcome.DENY)),
            with_version=Count("pk", filter=Q(policy_version__isnull=False)),
            via_grant=Count("pk", filter=Q(grant_id__isnull=False)),
            via_exception=Count("pk", filter=Q(exception_id__isnull=False)),
            first=Min("decided_at"),
            last=Max("decided_at"),
        )
        activities = _activities_with_logged(period)
        acts = activities.aggregate(
            reported=Count("pk"), unlogged=Count("pk", filter=Q(logged=False))
        )
        samples = _unlogged_samples(activities)
        if len(samples) < SAMPLE_SIZE:
            samples += _decision_samples(in_period, SAMPLE_SIZE - len(samples))
        return Evidence(
            checked=decisions["recorded"] + acts["reported"],
            failed=acts["unlogged"],
            figures={
                "decisions_recorded": decisions["recorded"],
                "allowed": decisions["allowed"],
                "denied": decisions["denied"],
                "naming_policy_version": decisions["with_version"],
                "allowed_via_grant": decisions["via_grant"],
                "allowed_via_exception": decisions["via_exception"],
                "first_decision": decisions["first"].isoformat() if decisions["first"] else None,
                "last_decision": decisions["last"].isoformat() if decisions["last"] else None,
                "actions_reported": acts["reported"],
                "actions_without_decision": acts["unlogged"],
            },
            samples=samples,
        )


def _activities_with_logged(period: Period) -> "QuerySet[WithAnnotations[Activity, Logged]]":
    """Actions reported in the period, each `logged` when a decision for that agent and
    capability was recorded shortly before it."""
    window = timedelta(seconds=settings.DECISION_COVERS_ACTIVITY_SECONDS)
    logged = Exists(
        Decision.objects.filter(
            agent_id=OuterRef("agent_id"),
            capability_id=OuterRef("capability_id"),
            decided_at__lte=OuterRef("occurred_at"),
            decided_at__gte=OuterRef("occurred_at") - window,
        )
    )
    return Activity.objects.filter(
        occurred_at__gte=period.since, occurred_at__lt=period.until
    ).annotate(logged=logged)


def _unlogged_samples(activities: "QuerySet[WithAnnotations[Activity, Logged]]") -> list[Sample]:
    return [
        Sample(
            kind="activity",
            id=str(pk),
            label=f"activity #{pk}: {agent} {capability} {outcome} at "
            f"{occurred:%Y-%m-%d %H:%M} — no decision recorded before it",
            url=agent_url(agent if agent_id else None),
            failed=True,
        )
        for pk, agent, agent_id, capability, outcome, occurred in activities.filter(logged=False)
        .order_by("-occurred_at", "-pk")
        .values_list("pk", "agent_slug", "agent_id", "capability_key", "outcome", "occurred_at")[
            :SAMPLE_SIZE
        ]
    ]


def _decision_samples(in_period: Q, limit: int) -> list[Sample]:
    return [
        Sample(
            kind="decision",
            id=str(pk),
            label=f"decision #{pk}: {decision} {agent} {capability} at "
            f"{decided:%Y-%m-%d %H:%M} (policy v{version}): {reason}",
        )
        for pk, decision, agent, capability, decided, version, reason in (
            Decision.objects.filter(in_period)
            .order_by("-decided_at", "-pk")
            .values_list(
                "pk",
                "decision",
                "agent_slug",
                "capability_key",
                "decided_at",
                "policy_version",
                "reason",
            )[:limit]
        )
    ]


class DriftReview(Collector):
    ref_id = "AGC-10"
    checks = (
        "checked: agent actions reported in the period; failed: flagged as drift and still "
        "awaiting security's review"
    )

    def collect(self, period: Period) -> Evidence:
        activities = Activity.objects.filter(
            occurred_at__gte=period.since, occurred_at__lt=period.until
        )
        pending = Q(flagged=True, review_status=ReviewStatus.PENDING)
        evidence = tally(
            activities,
            pending,
            {
                "actions_reported": Count("pk"),
                "flagged_as_drift": Q(flagged=True),
                "reviewed_expected": Q(flagged=True, review_status=ReviewStatus.EXPECTED),
                "reviewed_incident": Q(flagged=True, review_status=ReviewStatus.INCIDENT),
                "awaiting_review": pending,
                "oldest_awaiting_review": Min("occurred_at", filter=pending),
            },
        )
        evidence.samples = [
            Sample(
                kind="activity",
                id=str(pk),
                label=f"activity #{pk}: {agent} {capability} at {occurred:%Y-%m-%d %H:%M}: "
                + (
                    "awaiting review"
                    if status == ReviewStatus.PENDING
                    else f"reviewed by {reviewer} as {status}"
                )
                + (f" ({reason})" if reason else ""),
                url=agent_url(agent if agent_id else None),
                failed=status == ReviewStatus.PENDING,
            )
            for pk, agent, agent_id, capability, occurred, status, reviewer, reason in (
                activities.filter(flagged=True)
                .annotate(waiting=Q(review_status=ReviewStatus.PENDING))
                .order_by(F("waiting").desc(), "-occurred_at", "-pk")
                .values_list(
                    "pk",
                    "agent_slug",
                    "agent_id",
                    "capability_key",
                    "occurred_at",
                    "review_status",
                    "reviewed_by__username",
                    "flag_reason",
                )[:SAMPLE_SIZE]
            )
        ]
        oldest = evidence.figures["oldest_awaiting_review"]
        evidence.figures["oldest_awaiting_review"] = oldest.isoformat() if oldest else None
        return evidence
