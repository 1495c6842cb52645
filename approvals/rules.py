"""How many approvers a subject needs and why, in words an approver reads.

The number is decided by each workflow where it files a subject (access.services and
exceptions.services `approver_rule_for`, whose `.count` is `required_approvals_for`); the
reason travels with the number, so pages never restate the rule.
"""

from dataclasses import dataclass

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
