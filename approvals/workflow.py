"""A workflow's status pipeline: which statuses each status may move to, and nothing else."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar, cast

from approvals.models import ApprovalWorkflow
from kernel.transitions import check_transition

Status = TypeVar("Status", bound=str)


@dataclass(frozen=True)
class Pipeline(Generic[Status]):
    """`allowed` maps each status to the statuses it may become; `noun` names the subject in
    messages ("request", "exception")."""

    noun: str
    allowed: Mapping[Status, Collection[Status]]

    def check(self, subject: ApprovalWorkflow, status: Status) -> None:
        """Refuse, naming the current status, any move the pipeline does not allow."""
        current = cast(Status, subject.status)
        label = f"{self.noun.capitalize()} #{subject.pk}"
        check_transition(self.allowed, current, status, subject=label)

    def set_status(self, subject: ApprovalWorkflow, status: Status) -> None:
        """The one place a status changes."""
        self.check(subject, status)
        subject.status = status
