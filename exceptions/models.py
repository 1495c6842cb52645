"""Time-boxed, approved deviations from policy, their approvals and the reminders sent.

Whether an exception is *in force* is computed from its times (exceptions.rules), never read
from `status` alone: the beat task that moves rows to `expired` may be late, and decisions
must not be.
"""

from datetime import timedelta

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.urls import reverse

from approvals.models import ApprovalRecord, ApprovalWorkflow, approval_once_per_person
from exceptions.limits import ELEVATED_RISKS, MAX_DAYS, TITLE_MAX_LENGTH
from registry.models import Agent, Capability


class Risk(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class ExceptionStatus(models.TextChoices):
    PENDING = "pending", "Pending approval"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Rejected"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"
    WITHDRAWN = "withdrawn", "Withdrawn"


class PolicyException(ApprovalWorkflow):
    """Named PolicyException so that it never shadows Python's built-in Exception.

    `requested_by`, `status` and `required_approvals` come from the shared workflow; the
    number of approvers is decided by risk (services.required_approvals_for).
    """

    # Statuses of exceptions that were approved at some point: with the times and
    # `revoked_at`, they answer "was it in force at moment t" for past moments too.
    # Never `withdrawn`: only a pending exception is withdrawn, so it was never in force.
    EVER_ACTIVE_STATUSES = (
        ExceptionStatus.ACTIVE,
        ExceptionStatus.EXPIRED,
        ExceptionStatus.REVOKED,
    )

    title = models.CharField(max_length=TITLE_MAX_LENGTH)
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="policy_exceptions")
    capability = models.ForeignKey(
        Capability,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="the policy rule deviated from (for the agent's tier and this capability)",
    )
    justification = models.TextField()
    risk = models.CharField(max_length=16, choices=Risk.choices)
    compensating_controls = models.TextField(blank=True)
    # The internal controls this exception deviates from (compliance reports show it as
    # "excepted" while it is in force). Defaults to those governing its capability.
    controls = models.ManyToManyField(
        "controls.Control", blank=True, related_name="policy_exceptions"
    )
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=ExceptionStatus.choices, default=ExceptionStatus.PENDING
    )
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewals"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rejection_comment = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    expired_at = models.DateTimeField(null=True, blank=True, help_text="set by the periodic task")
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="when its requester took it back while it was pending"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The decision API's lookup: (agent, capability) in force at a moment.
            models.Index(fields=["agent", "capability", "expires_at"]),
            models.Index(fields=["status", "expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="exception_expires_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(risk__in=[choice.value for choice in Risk]),
                name="exception_risk_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Exception #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("exceptions:detail", kwargs={"pk": self.pk})

    @property
    def max_days(self) -> int:
        return MAX_DAYS[self.risk]

    @property
    def is_elevated_risk(self) -> bool:
        """High or critical: compensating controls and two distinct approvers required."""
        return self.risk in ELEVATED_RISKS

    @property
    def length(self) -> timedelta:
        return self.expires_at - self.starts_at


class ExceptionApproval(ApprovalRecord):
    exception = models.ForeignKey(
        PolicyException, on_delete=models.CASCADE, related_name="approvals"
    )

    class Meta(ApprovalRecord.Meta):
        constraints = [approval_once_per_person("exception", "exception_approval_once_per_person")]


class ReminderKind(models.TextChoices):
    SEVEN_DAYS = "7d", "7 days before expiry"
    ONE_DAY = "1d", "1 day before expiry"


class ExceptionReminder(models.Model):
    """A reminder that was sent; the constraint makes "each sent once" hold under races."""

    exception = models.ForeignKey(
        PolicyException, on_delete=models.CASCADE, related_name="reminders"
    )
    kind = models.CharField(max_length=4, choices=ReminderKind.choices)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["exception", "kind"], name="exception_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.kind} reminder for exception #{self.exception_id}"


auditlog.register(PolicyException)
auditlog.register(ExceptionApproval)
auditlog.register(ExceptionReminder)
