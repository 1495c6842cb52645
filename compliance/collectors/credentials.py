"""Collector that reads the credentials the portal issued: AGC-11 (short-lived credentials)."""

from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.db.models import (
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
)
from django.db.models.functions import Coalesce, Concat, Length, Replace, StrIndex

from compliance.collectors.base import SAMPLE_SIZE, Collector, Evidence, flag, tally
from compliance.collectors.links import agent_url
from compliance.collectors.population import Population, Rows, Sample, each
from compliance.period import Period
from credentials.models import IssuedCredential
from decisions.models import Decision, DecisionOutcome
from registry.models.inventory import AgentStatus

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class Judged(TypedDict):
    """What `credentials_judged` annotates on each credential (flags are 0 or 1)."""

    lifetime: timedelta
    key_age: timedelta
    asked: int
    allowed: int
    too_long: int
    inactive: int
    unallowed: int
    stale_key: int
    failing: int


def credentials_judged(period: Period) -> "QuerySet[WithAnnotations[IssuedCredential, Judged]]":
    """Credentials issued in the period, each with what AGC-11 fails it for.

    `asked` is the number of capabilities in it, counted in `capability_keys` (" a:b c:d ":
    one space more than keys, keys never contain one), which SQLite and PostgreSQL both
    compute; `allowed` is the number of those capabilities with an allow decision recorded
    for this credential (its jti). Fewer allowed than asked, or any deny for it, means the
    credential carries a capability nobody decided to give.
    """
    # `credential_jti > ""` lets the planner use the partial index on exchange decisions.
    for_this = Decision.objects.filter(credential_jti__gt="", credential_jti=OuterRef("jti"))
    allowed = (
        for_this.filter(decision=DecisionOutcome.ALLOW)
        # Only an allow for a capability the credential carries counts towards it.
        .alias(
            at=StrIndex(
                OuterRef("capability_keys"), Concat(Value(" "), F("capability_key"), Value(" "))
            )
        )
        .filter(at__gt=0)
        .order_by()
        .values("credential_jti")
        .annotate(n=Count("capability_key", distinct=True))
        .values("n")
    )
    max_ttl = timedelta(seconds=settings.CREDENTIAL_MAX_TTL_SECONDS)
    max_key_age = timedelta(days=settings.SIGNING_KEY_MAX_AGE_DAYS)
    return (
        IssuedCredential.objects.filter(issued_at__gte=period.since, issued_at__lt=period.until)
        .annotate(
            lifetime=ExpressionWrapper(
                F("expires_at") - F("issued_at"), output_field=DurationField()
            ),
            key_age=ExpressionWrapper(
                F("issued_at") - F("signing_key__created_at"), output_field=DurationField()
            ),
            asked=Length("capability_keys")
            - Length(Replace("capability_keys", Value(" "), Value("")))
            - Value(1),
            allowed=Coalesce(Subquery(allowed, output_field=IntegerField()), Value(0)),
        )
        .annotate(
            too_long=flag(Q(lifetime__gt=max_ttl)),
            inactive=flag(~Q(agent_status=AgentStatus.ACTIVE)),
            unallowed=flag(
                Q(allowed__lt=F("asked"))
                | Q(Exists(for_this.filter(decision=DecisionOutcome.DENY)))
            ),
            stale_key=flag(Q(key_age__gt=max_key_age)),
        )
        .annotate(failing=F("too_long") + F("inactive") + F("unallowed") + F("stale_key"))
    )


class ShortLivedCredentials(Collector):
    ref_id = "AGC-11"
    checks = (
        "checked: credentials the portal issued in the period; failed: a lifetime over "
        "CREDENTIAL_MAX_TTL_SECONDS, issued while the agent was not active, a capability in it "
        "without an allow decision for that credential (or a deny for it), or signed with a "
        "key older than SIGNING_KEY_MAX_AGE_DAYS"
    )

    def collect(self, period: Period) -> Evidence:
        credentials = credentials_judged(period)
        evidence = tally(
            credentials,
            Q(failing__gt=0),
            {
                "credentials_issued": Count("pk"),
                "agents": Count("agent", distinct=True),
                "lifetime_over_maximum": Q(too_long=1),
                "issued_to_inactive_agent": Q(inactive=1),
                "issued_without_allow": Q(unallowed=1),
                "signed_with_stale_key": Q(stale_key=1),
                "signing_keys_used": Count("signing_key", distinct=True),
                "longest_lifetime_seconds": Max("lifetime"),
            },
        )
        longest = evidence.figures["longest_lifetime_seconds"]
        evidence.figures["longest_lifetime_seconds"] = (
            None if longest is None else int(longest.total_seconds())
        )
        evidence.figures["maximum_lifetime_seconds"] = settings.CREDENTIAL_MAX_TTL_SECONDS
        evidence.figures["signing_key_maximum_age_days"] = settings.SIGNING_KEY_MAX_AGE_DAYS
        evidence.samples = [_sample(row) for row in _rows(credentials)[:SAMPLE_SIZE]]
        return evidence

    def population(self, period: Period) -> Population:
        return Population(Rows(_rows(credentials_judged(period)), each(_sample)))


REASONS = (
    ("too_long", "lifetime over the maximum"),
    ("inactive", "agent not active"),
    ("unallowed", "a capability without an allow decision"),
    ("stale_key", "signing key too old"),
)


def _rows(credentials: "QuerySet[WithAnnotations[IssuedCredential, Judged]]") -> QuerySet[Any]:
    """The failing credentials first."""
    return credentials.order_by(F("failing").desc(), "-issued_at", "-pk").values(
        "jti",
        "agent__slug",
        "capability_keys",
        "issued_at",
        "lifetime",
        "agent_status",
        "signing_key__kid",
        "failing",
        *(flag for flag, _ in REASONS),
    )


def _sample(row: dict[str, Any]) -> Sample:
    """One credential, with why it fails."""
    reasons = [reason for flag, reason in REASONS if row[flag]]
    agent = row["agent__slug"] or "(agent no longer registered)"
    return Sample(
        kind="credential",
        id=row["jti"],
        label=f"credential {row['jti']}: {agent} "
        f"({row['agent_status']}) {row['capability_keys'].strip()}, issued "
        f"{row['issued_at']:%Y-%m-%d %H:%M} UTC for {int(row['lifetime'].total_seconds())} s, "
        f"key {row['signing_key__kid']}" + (f" — {'; '.join(reasons)}" if reasons else ""),
        url=agent_url(row["agent__slug"]),
        failed=bool(row["failing"]),
    )
