"""What gateways asked (decisions) and what agents then did (activity)."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models

from access.limits import WORKLOAD_MAX_LENGTH
from registry.models.inventory import Agent, Capability


class DecisionOutcome(models.TextChoices):
    ALLOW = "allow", "Allow"
    DENY = "deny", "Deny"


class Decision(models.Model):
    """One answer of the decision API: audit evidence, written before the answer is sent.

    Slugs and keys are kept as asked, so a decision about an unknown agent or capability is
    evidence too. Grant and exception are plain ids: the log is append-only and hot, and
    neither grants nor exceptions are ever deleted.
    """

    request_id = models.UUIDField(unique=True)
    agent = models.ForeignKey(
        Agent, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    agent_slug = models.CharField(max_length=200)
    capability = models.ForeignKey(
        Capability, null=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    capability_key = models.CharField(max_length=200)
    scope = models.CharField(max_length=500, blank=True)
    decision = models.CharField(max_length=8, choices=DecisionOutcome.choices)
    reason = models.CharField(max_length=500)
    policy_version = models.PositiveIntegerField(null=True)
    grant_id = models.PositiveBigIntegerField(null=True)
    exception_id = models.PositiveBigIntegerField(null=True)
    caller = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # Who asked when no person did: the workload identity ("trust provider: subject") of an
    # agent that asked as itself, over MCP or by exchanging its platform's token.
    caller_workload = models.CharField(
        max_length=WORKLOAD_MAX_LENGTH, blank=True, default="", db_default=""
    )
    decided_at = models.DateTimeField(db_index=True)
    # Set when the decision was taken for a token exchange: the `jti` of the credential it
    # was for (issued only if every capability asked for was allowed).
    credential_jti = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-decided_at", "-id"]
        # Each list filter of the decision API (decisions/filters.py) has an index that leads
        # with it and then serves the newest-first order; on PostgreSQL every monthly partition
        # has each of them (tests/decisions/test_partitions.py reads the plans).
        indexes = [
            models.Index(fields=["agent", "capability", "decided_at"]),
            models.Index(fields=["agent_slug", "decided_at"], name="decision_agent_slug_at"),
            models.Index(fields=["capability_key", "decided_at"], name="decision_capability_at"),
            models.Index(fields=["decision", "decided_at"], name="decision_outcome_at"),
            # Only exchange decisions carry a jti: a partial index stays small and costs the
            # gateways' decisions (the hot path) nothing.
            models.Index(
                fields=["credential_jti"],
                condition=models.Q(credential_jti__gt=""),
                name="decision_credential_jti",
            ),
            # Only an agent asking as itself carries a workload: partial, for the same reason.
            models.Index(
                fields=["caller_workload", "decided_at"],
                condition=models.Q(caller_workload__gt=""),
                name="decision_workload_at",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.decision} {self.agent_slug} {self.capability_key} @ {self.decided_at}"


class ReviewStatus(models.TextChoices):
    NOT_NEEDED = "not_needed", "Covered (no review needed)"
    PENDING = "pending", "Awaiting review"
    EXPECTED = "expected", "Reviewed: expected"
    INCIDENT = "incident", "Reviewed: incident"


class Activity(models.Model):
    """An action an agent took, as a gateway reported it. Flagged when nothing covered it."""

    agent = models.ForeignKey(Agent, null=True, on_delete=models.PROTECT, related_name="activities")
    agent_slug = models.CharField(max_length=200)
    capability = models.ForeignKey(
        Capability, null=True, on_delete=models.PROTECT, related_name="activities"
    )
    capability_key = models.CharField(max_length=200)
    target = models.CharField(max_length=500, blank=True)
    outcome = models.CharField(max_length=32)
    occurred_at = models.DateTimeField()
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(auto_now_add=True)
    covered_by = models.CharField(max_length=200, blank=True)
    flagged = models.BooleanField(default=False)
    flag_reason = models.CharField(max_length=500, blank=True)
    review_status = models.CharField(
        max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NOT_NEEDED
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["flagged", "review_status"]),
            models.Index(fields=["occurred_at"]),
            models.Index(fields=["review_status", "occurred_at"], name="activity_review_at"),
            models.Index(fields=["agent_slug", "occurred_at"], name="activity_agent_slug_at"),
            models.Index(fields=["capability_key", "occurred_at"], name="activity_capability_at"),
        ]

    def __str__(self) -> str:
        return f"{self.agent_slug} {self.capability_key} {self.outcome} @ {self.occurred_at}"


auditlog.register(Activity, exclude_fields=["reported_at"])


class ReasonKind(models.TextChoices):
    """Why a decision came out as it did, in the few kinds reports count (the reason text itself
    is free and is kept only on the decision). Derived from the decision's stored columns by
    `decisions.rollups.REASON_KIND`."""

    GRANT = "grant", "Allowed by a grant"
    EXCEPTION = "exception", "Allowed by an exception"
    STANDING = "standing", "Standing allow in the policy"
    UNKNOWN_AGENT = "unknown_agent", "Unknown agent"
    NOT_EVALUATED = "not_evaluated", "Agent not active or capability unknown"
    NO_POLICY = "no_policy", "No policy published"
    RULE = "rule", "Denied by the tier's rule"


class DecisionRollup(models.Model):
    """Decisions of one closed day counted per agent, capability, outcome, reason kind and
    policy version: what reports read instead of the raw log, whose size they then ignore."""

    day = models.DateField()
    agent_slug = models.CharField(max_length=200)
    capability_key = models.CharField(max_length=200)
    decision = models.CharField(max_length=8, choices=DecisionOutcome.choices)
    reason_kind = models.CharField(max_length=16, choices=ReasonKind.choices)
    policy_version = models.PositiveIntegerField(null=True)
    count = models.PositiveBigIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    # The highest raw id among the counted rows: the record a report names as a sample, and
    # (the day's highest) RolledDay.max_id, read from what was inserted, so it is consistent.
    max_id = models.PositiveBigIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"]), models.Index(fields=["agent_slug", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_slug} {self.capability_key} {self.decision}: {self.count}"


class ActivityRollup(models.Model):
    """Reported actions of one closed day counted per agent, capability, whether a decision was
    logged shortly before (AGC-05), whether flagged as drift and its review status (AGC-10)."""

    day = models.DateField()
    agent_slug = models.CharField(max_length=200)
    capability_key = models.CharField(max_length=200)
    logged = models.BooleanField()
    flagged = models.BooleanField()
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices)
    count = models.PositiveBigIntegerField()
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    max_id = models.PositiveBigIntegerField(default=0)  # as DecisionRollup.max_id

    class Meta:
        indexes = [models.Index(fields=["day"]), models.Index(fields=["agent_slug", "day"])]

    def __str__(self) -> str:
        return f"{self.day} {self.agent_slug} {self.capability_key}: {self.count}"


class RolledDay(models.Model):
    """A closed day whose rollups are written: when, and the highest raw id then seen, so a row
    arriving later for that day (a late report, a clock behind) marks the day for a re-roll."""

    class Log(models.TextChoices):
        DECISIONS = "decisions", "Decisions"
        ACTIVITY = "activity", "Activity"

    log = models.CharField(max_length=16, choices=Log.choices)
    day = models.DateField()
    rows = models.PositiveBigIntegerField()  # raw rows counted (the sum of the rollups' counts)
    max_id = models.PositiveBigIntegerField(default=0)
    rolled_at = models.DateTimeField()
    # Set when something the rollups count changed after the roll (an activity reviewed):
    # reports read the day's raw rows again until it is re-rolled.
    stale = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["log", "day"], name="rolled_day_once_per_log")
        ]

    def __str__(self) -> str:
        return f"{self.log} {self.day}: {self.rows} rows"


class RollupWatermark(models.Model):
    """How far `decisions.rollups.roll_up_due` has looked through one log, so that finding a
    late row (one dated in a closed day, inserted after that day was rolled) reads only the
    rows inserted since, by primary key, never the whole log.

    Each run reads the ids above `lagged_id` (the highest id two runs ago, so a row whose
    insert was still uncommitted during one run is seen by the next) and up to the highest
    now; every day up to `closed_through` was rolled once it closed."""

    log = models.CharField(max_length=16, choices=RolledDay.Log.choices, unique=True)
    checked_id = models.PositiveBigIntegerField(default=0)
    lagged_id = models.PositiveBigIntegerField(default=0)
    closed_through = models.DateField()
    checked_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.log}: ids to {self.checked_id}, days to {self.closed_through}"


class PrunedPartition(models.Model):
    """A month (or, on SQLite, every month before a boundary) of raw decisions or activity
    dropped by retention (decisions/retention.py): which log, the range, how many rows went,
    when and by what. Audited, so the drop is in the audit trail with its row count. Its days
    were rolled up first: reports keep their daily counts."""

    log = models.CharField(max_length=16, choices=RolledDay.Log.choices)
    partition = models.CharField(
        max_length=200, blank=True, help_text="The PostgreSQL partition dropped; blank on SQLite."
    )
    range_start = models.DateTimeField("from")
    range_end = models.DateTimeField("until (excluded)")
    rows = models.PositiveBigIntegerField("rows dropped")
    pruned_at = models.DateTimeField()
    pruned_by = models.CharField(max_length=150)

    class Meta:
        ordering = ["-range_end", "-id"]
        verbose_name = "pruned log month"
        indexes = [models.Index(fields=["log", "range_end"])]

    def __str__(self) -> str:
        where = f" ({self.partition})" if self.partition else ""
        return (
            f"{self.get_log_display()} {self.range_start:%Y-%m-%d} to {self.range_end:%Y-%m-%d}"
            f"{where}: {self.rows} rows dropped"
        )


auditlog.register(PrunedPartition)
