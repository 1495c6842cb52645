"""Just-in-time access: requests, their approvals, and the time-boxed grants they issue."""

from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.urls import reverse

from access.limits import SCOPE_MAX_LENGTH, TICKET_MAX_LENGTH, WORKLOAD_MAX_LENGTH
from approvals.models import ApprovalRecord, ApprovalWorkflow, approval_once_per_person
from registry.models.inventory import Agent, Capability


class RequestStatus(models.TextChoices):
    # Filed by an agent acting as itself (over MCP): its owner or team confirms it first.
    AWAITING_OWNER = "awaiting_owner", "Awaiting owner confirmation"
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired (not decided in time)"


class AccessRequest(ApprovalWorkflow):
    """`requested_by`, `status` and `required_approvals` (0 for jit and break-glass, approved
    at once) come from the shared workflow; `required_approvals_for` decides the number.

    A request the agent filed itself (`filed_by_agent`, over MCP with its workload identity)
    is requested for its owner and waits in `awaiting_owner` until the owner or a member of the
    agent's team confirms it (`confirmed_by`, `confirmed_at`: the approval clock starts then)."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="access_requests")
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(
        max_length=SCOPE_MAX_LENGTH, blank=True, help_text="e.g. acme/payments-*"
    )
    justification = models.TextField()
    ticket = models.CharField(max_length=TICKET_MAX_LENGTH, blank=True)
    duration_hours = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    effect = models.CharField(max_length=16, help_text="the policy effect at submission")
    policy_version = models.PositiveIntegerField()
    break_glass = models.BooleanField(default=False)
    incident = models.CharField(max_length=TICKET_MAX_LENGTH, blank=True)
    break_glass_reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    break_glass_reviewed_at = models.DateTimeField(null=True, blank=True)
    break_glass_review_note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_comment = models.TextField(blank=True)
    filed_by_agent = models.BooleanField(
        default=False, help_text="filed by the agent itself over MCP, for its owner to confirm"
    )
    filed_by_workload = models.CharField(
        max_length=WORKLOAD_MAX_LENGTH,
        blank=True,
        help_text="the workload identity that filed it (trust provider: subject)",
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]
        constraints = [
            # One open request (pending, or awaiting its owner) per access asked for, even
            # when two submits race.
            models.UniqueConstraint(
                fields=["agent", "capability", "scope"],
                condition=models.Q(status__in=["pending", "awaiting_owner"]),
                name="one_open_request_per_access",
            )
        ]

    def __str__(self) -> str:
        # Names, not ids: the audit trail keeps this as the object's label.
        return f"#{self.pk} {self.agent.slug} {self.capability.key} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("access:request-detail", kwargs={"pk": self.pk})


class Approval(ApprovalRecord):
    request = models.ForeignKey(AccessRequest, on_delete=models.CASCADE, related_name="approvals")

    class Meta(ApprovalRecord.Meta):
        constraints = [approval_once_per_person("request", "approval_once_per_person")]


class Grant(models.Model):
    """Time-boxed access. Active = not revoked and starts_at <= now < expires_at (selectors)."""

    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="grants")
    capability = models.ForeignKey(Capability, on_delete=models.PROTECT, related_name="+")
    scope = models.CharField(max_length=SCOPE_MAX_LENGTH, blank=True)
    starts_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    request = models.OneToOneField(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="grant"
    )
    expired = models.BooleanField(default=False, help_text="set by the periodic task; advisory")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoke_reason = models.TextField(blank=True)
    expiry_reminder_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["agent", "capability", "expires_at"]),
            models.Index(fields=["expires_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expires_at__gt=models.F("starts_at")),
                name="grant_expires_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"grant #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("access:grant-detail", kwargs={"pk": self.pk})


auditlog.register(AccessRequest)
auditlog.register(Approval)
auditlog.register(Grant)
