"""How many approvers a subject needs and why, in words an approver reads.

The number is decided by each workflow where it files a subject (access.services and
exceptions.services `approver_rule_for`, whose `.count` is `required_approvals_for`); the
reason travels with the number, so pages never restate the rule.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four"}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth"}


def number(n: int) -> str:
    return NUMBERS.get(n, str(n))


def approvers(n: int) -> str:
    """ "one security approver", "two security approvers"."""
    return f"{number(n)} security approver{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class ApproverRule:
    """`count` distinct security approvers, `because` of what ("production + high-risk")."""

    count: int
    because: str

    def __str__(self) -> str:
        return f"{self.because}: {approvers(self.count)}"


def why_approvers(required: int, rule: ApproverRule) -> str:
    """Why a subject that needs `required` approvers (stored when it was filed) needs them,
    by the rule as it reads now; says so when the two differ (the rule changed since)."""
    if required == rule.count:
        return str(rule)
    return f"{approvers(required)} when it was filed; now {rule}"


def waiting_for(approved: int, required: int) -> str:
    """Who is still missing: "waiting for a second security approver"; "" when nobody is."""
    missing = required - approved
    if missing <= 0:
        return ""
    if approved == 0:
        return f"waiting for {'a' if missing == 1 else number(missing)} security approver" + (
            "" if missing == 1 else "s"
        )
    if missing == 1:
        return f"waiting for a {ORDINALS.get(required, f'#{required}')} security approver"
    return f"waiting for {number(missing)} more security approvers"


def security_approvals(count: int) -> str:
    """ "1 security approval", "2 security approvals": what a filed request or exception waits
    for, in the message its requester reads."""
    return f"{count} security approval{'' if count == 1 else 's'}"


def approved_message(label: str, subject: Any, *, final: bool, outcome: str) -> str:
    """What the person who pressed Approve is told, in every workflow: "<Label> #n approved:
    <outcome>." when theirs was the last approval needed, else "You approved <label> #n;
    waiting for a second security approver." (`label`: "request", "exception", "binding")."""
    if final:
        return f"{label.capitalize()} #{subject.pk} approved: {outcome}."
    waiting = waiting_for(subject.approvals.count(), subject.required_approvals)
    return f"You approved {label} #{subject.pk}; {waiting}."


def approved_by(subject: Any) -> str:
    """Who approved the subject, in order, each with their comment, for the notice that tells
    the people concerned: 'Approved by sam ("pipeline checked") and sara.'"""
    names = [
        f"{a.approver.get_username()}" + (f" (“{a.comment}”)" if a.comment else "")
        for a in subject.approvals.select_related("approver").order_by("created_at", "id")
    ]
    if not names:
        return "Approved."
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    return f"Approved by {listed}."


def with_approver_rules(subjects: Iterable[Any], rule: Callable[[Any], ApproverRule]) -> None:
    """Set, for pages, `approver_rule` (why each subject needs its approvers, by `rule`: the
    workflow's `approver_rule_for` as it reads now; empty when it needs none) and `waiting`
    (who is still missing) on each subject; reads the prefetched approvals."""
    for subject in subjects:
        required = subject.required_approvals
        why = why_approvers(required, rule(subject)) if required else ""
        # Display values for the page, not model fields.
        setattr(subject, "approver_rule", why)  # noqa: B010
        setattr(subject, "waiting", waiting_for(len(subject.approvals.all()), required))  # noqa: B010
