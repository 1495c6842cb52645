"""The outbox: what a change wants done later, written in the change's own transaction."""

from django.db import models


class OutboxStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class OutboxMessage(models.Model):
    """One thing to deliver (a notice, a background build), by a registered handler's name.

    Written in the same transaction as the change that asks for it, so it exists exactly
    when the change does; delivered by `kernel.outbox.dispatch_due` with retries.
    """

    handler = models.CharField(max_length=200)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.handler} #{self.pk} ({self.status}, {self.attempts} attempt(s))"

    @property
    def given_up(self) -> bool:
        """The portal stopped trying (failed): only such a delivery is retried by hand."""
        return self.status == OutboxStatus.FAILED
