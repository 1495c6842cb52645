"""Collectors that read decisions and reported activity: AGC-05 (logging), AGC-10 (drift)."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import F, Q, QuerySet

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence
from compliance.collectors.links import agent_url
from compliance.collectors.population import Population, Rows, Sample, each
from compliance.period import Period
from decisions.models import (
    Activity,
    Decision,
    DecisionOutcome,
    ReasonKind,
    ReviewStatus,
    RolledDay,
)
from decisions.selectors import activity_logged
from decisions.tallies import DaySplit, Earliest, Latest, day_splits, sample_rows, tally

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Logged(TypedDict):
    logged: bool


ACTIVITY_FIELDS = ("pk", "agent_slug", "agent_id", "capability_key", "outcome", "occurred_at")
DECISION_FIELDS = (
    "pk",
    "decision",
    "agent_slug",
    "capability_key",
    "decided_at",
    "policy_version",
    "reason",
)


class TrustBoundaryLogging(Collector):
    ref_id = "AGC-05"
    checks = (
        "checked: decisions recorded and agent actions reported in the period; failed: a "
        "reported action with no decision recorded for that agent and capability shortly "
        "before it (DECISION_COVERS_ACTIVITY_SECONDS)"
    )

    def collect(self, period: Period) -> Evidence:
        """Daily rollups for the closed days rolled up, raw rows for the rest (decisions.tallies):
        a fixed number of queries whatever the number of decisions."""
        splits = _splits(period)
        decisions = tally(
            splits[RolledDay.Log.DECISIONS],
            {
                "recorded": Q(),
                "allowed": Q(decision=DecisionOutcome.ALLOW),
                "denied": Q(decision=DecisionOutcome.DENY),
                "with_version": Q(policy_version__isnull=False),
                "via_grant": Q(reason_kind=ReasonKind.GRANT),
                "via_exception": Q(reason_kind=ReasonKind.EXCEPTION),
                "first": Earliest(),
                "last": Latest(),
            },
        )
        activity = splits[RolledDay.Log.ACTIVITY]
        acts = tally(activity, {"reported": Q(), "unlogged": Q(logged=False)})
        samples = _unlogged_samples(activity) if acts["unlogged"] else []
        if len(samples) < SAMPLE_SIZE:
            samples += [
                _decision_sample(row)
                for row in _decision_rows(_decided_in(period))[: SAMPLE_SIZE - len(samples)]
            ]
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
                "first_decision": decisions["first"],
                "last_decision": decisions["last"],
                "actions_reported": acts["reported"],
                "actions_without_decision": acts["unlogged"],
            },
            samples=samples,
        )

    def population(self, period: Period) -> Population:
        """The reported actions (those without a decision first), then every decision."""
        activities = (
            _activities_with_logged(period)
            .order_by("logged", "-occurred_at", "-pk")
            .values_list(*ACTIVITY_FIELDS, "logged")
        )
        return Population(
            Rows(activities, each(_activity_sample)),
            Rows(_decision_rows(_decided_in(period)), each(_decision_sample)),
        )


def _decided_in(period: Period) -> Q:
    return Q(decided_at__gte=period.since, decided_at__lt=period.until)


def _splits(period: Period) -> dict[str, DaySplit]:
    return day_splits(period.start, period.end + timedelta(days=1))


def _unlogged_samples(activity: DaySplit) -> list[Sample]:
    rows = sample_rows(activity, Q(logged=False), limit=SAMPLE_SIZE)
    if rows is None:
        return []
    newest = rows.order_by("-occurred_at", "-pk").values_list(*ACTIVITY_FIELDS)
    return [_activity_sample((*row, False)) for row in newest[:SAMPLE_SIZE]]


def _activities_with_logged(period: Period) -> "QuerySet[WithAnnotations[Activity, Logged]]":
    """Actions reported in the period, each `logged` by decisions.selectors.activity_logged."""
    return Activity.objects.filter(
        occurred_at__gte=period.since, occurred_at__lt=period.until
    ).annotate(logged=activity_logged())


def _activity_sample(row: tuple) -> Sample:
    pk, agent, agent_id, capability, outcome, occurred, logged = row
    return Sample(
        kind="activity",
        id=str(pk),
        label=f"activity #{pk}: {agent} {capability} {outcome} at "
        f"{occurred:%Y-%m-%d %H:%M} UTC — "
        + ("decision recorded before it" if logged else "no decision recorded before it"),
        url=agent_url(agent if agent_id else None),
        failed=not logged,
    )


def _decision_rows(in_period: Q) -> QuerySet[Any]:
    return (
        Decision.objects.filter(in_period)
        .order_by("-decided_at", "-pk")
        .values_list(*DECISION_FIELDS)
    )


def _decision_sample(row: tuple) -> Sample:
    pk, decision, agent, capability, decided, version, reason = row
    policy = f"policy v{version}" if version is not None else "no policy version"
    return Sample(
        kind="decision",
        id=str(pk),
        label=f"decision #{pk}: {decision} {agent} {capability} at "
        f"{decided:%Y-%m-%d %H:%M} UTC ({policy}): {reason}",
    )


class DriftReview(Collector):
    ref_id = "AGC-10"
    checks = (
        "checked: agent actions reported in the period; failed: flagged as drift and still "
        "awaiting security's review"
    )

    def collect(self, period: Period) -> Evidence:
        """Daily rollups for the closed days rolled up, raw rows for the rest; a day whose
        activity was reviewed after its roll is read raw until re-rolled (RolledDay.stale)."""
        activity = _splits(period)[RolledDay.Log.ACTIVITY]
        pending = _pending()
        figures = tally(
            activity,
            {
                "actions_reported": Q(),
                "flagged_as_drift": Q(flagged=True),
                "reviewed_expected": Q(flagged=True, review_status=ReviewStatus.EXPECTED),
                "reviewed_incident": Q(flagged=True, review_status=ReviewStatus.INCIDENT),
                "awaiting_review": pending,
                "oldest_awaiting_review": Earliest(pending),
            },
        )
        evidence = Evidence(
            checked=figures["actions_reported"], failed=figures["awaiting_review"], figures=figures
        )
        rows = None
        if figures["flagged_as_drift"]:
            rows = sample_rows(
                activity, Q(flagged=True), limit=SAMPLE_SIZE, by=("review_status",), lead=pending
            )
        if rows is not None:
            evidence.samples = [_drift_sample(row) for row in _drift_rows(rows)[:SAMPLE_SIZE]]
        return evidence

    def population(self, period: Period) -> Population:
        """Every reported action: those awaiting review first, then the other flagged ones."""
        return Population(Rows(_drift_rows(_reported_in(period)), each(_drift_sample)))


def _reported_in(period: Period) -> QuerySet[Activity]:
    return Activity.objects.filter(occurred_at__gte=period.since, occurred_at__lt=period.until)


def _pending() -> Q:
    return Q(flagged=True, review_status=ReviewStatus.PENDING)


DRIFT_FIELDS = (
    "pk",
    "agent_slug",
    "agent_id",
    "capability_key",
    "occurred_at",
    "flagged",
    "review_status",
    "reviewed_by__username",
    "flag_reason",
)


def _drift_rows(activities: QuerySet[Activity]) -> QuerySet[Any]:
    return (
        activities.annotate(waiting=_pending())
        .order_by(F("waiting").desc(), F("flagged").desc(), "-occurred_at", "-pk")
        .values_list(*DRIFT_FIELDS)
    )


def _drift_sample(row: tuple) -> Sample:
    pk, agent, agent_id, capability, occurred, flagged, status, reviewer, reason = row
    waiting = flagged and status == ReviewStatus.PENDING
    if not flagged:
        state = "not flagged"
    elif waiting:
        state = "flagged, awaiting review"
    else:
        state = f"reviewed by {reviewer or 'someone no longer known'} as {status}"
    return Sample(
        kind="activity",
        id=str(pk),
        label=f"activity #{pk}: {agent} {capability} at {occurred:%Y-%m-%d %H:%M} UTC: {state}"
        + (f" ({reason})" if reason else ""),
        url=agent_url(agent if agent_id else None),
        failed=waiting,
    )
