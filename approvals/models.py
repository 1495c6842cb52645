"""The fields every approval workflow shares, as abstract models (no tables of their own).

A workflow subject (an access request, a policy exception) is asked for by someone, moves
through its own statuses starting at "pending", and needs `required_approvals` distinct
approvers. That number is decided once, by the owning app, when the subject is filed, and
stored: reports read it back instead of recomputing a rule that may have changed since.
Each subject has an approval model with a foreign key to it (related_name="approvals")
and the constraint `approval_once_per_person(...)`.
"""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager

PENDING = "pending"


class ApprovalWorkflow(models.Model):
    """Who asked, where it stands, and how many distinct approvers it needs.

    Subclasses redeclare `status` with their own choices (and "pending" as the default).
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="%(class)s_requested"
    )
    status = models.CharField(max_length=16, default=PENDING)
    required_approvals = models.PositiveSmallIntegerField(
        default=1, help_text="distinct approvers needed, decided when it was filed"
    )

    if TYPE_CHECKING:
        # Each subject's approval model points here with related_name="approvals".
        approvals: RelatedManager["ApprovalRecord"]

    class Meta:
        abstract = True


class ApprovalRecord(models.Model):
    """One person's approval of one subject. Subclasses add the foreign key to their subject
    (related_name="approvals") and `approval_once_per_person` in Meta.constraints."""

    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        """'sam approved exception #12', named by the subject's foreign key (the audit trail
        keeps it as the approval's label)."""
        subject = next(
            field
            for field in self._meta.concrete_fields
            if field.is_relation and field.name != "approver"
        )
        return (
            f"{self.approver.get_username()} approved {subject.name} "
            f"#{getattr(self, subject.attname)}"
        )


def approval_once_per_person(subject_field: str, name: str) -> models.UniqueConstraint:
    """The same person counts once, whatever races the application layer loses."""
    return models.UniqueConstraint(fields=[subject_field, "approver"], name=name)
