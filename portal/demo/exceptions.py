"""Demo exceptions: active, pending, expired and revoked ones of each risk, a rejection and a
renewal chain. Written directly (like the registry's demo requests): the history is made up."""

from datetime import timedelta

from django.utils import timezone

from exceptions.limits import ELEVATED_RISKS
from exceptions.models import ExceptionApproval, ExceptionReminder, PolicyException, ReminderKind
from exceptions.services import required_approvals_for
from portal.demo.people import demo_cast

CONTROLS = "Every use is alerted to #sec-alerts and reviewed weekly; scope limited to one repo."

# status, risk, agent, capability, requester, title, (start, end) in days from now. Each risk
# is at or above its floor (exceptions.rules.risk_floor): a high-risk capability is at least
# high, on the production payments-fixer critical. No two for the same agent and capability
# are in force at once (exceptions.rules.overlapping_exception): they follow or touch.
DEMO = (
    (
        "active",
        "low",
        "docs-helper",
        "github:write",
        "alice",
        "Docs previews from the sandbox",
        (-30, 120),
    ),
    ("active", "medium", "ci-bot", "jira:write", "bob", "CI bot comments on tickets", (-10, 50)),
    (
        "active",
        "high",
        "ci-bot",
        "vault:read_secret",
        "bob",
        "CI bot reads the signing key",
        (-25, 5),
    ),
    (
        "active",
        "critical",
        "payments-fixer",
        "deploy:release",
        "alice",
        "Ledger hotfix releases during the freeze",
        (-13, 1),
    ),
    ("pending", "low", "payments-fixer", "github:read", "alice", "Read the ledger", (0, 90)),
    ("pending", "medium", "payments-fixer", "github:write", "alice", "Changelog pushes", (0, 60)),
    (
        "pending",
        "high",
        "docs-helper",
        "github:merge",
        "alice",
        "Auto-merge dependabot",
        (0, 21),
    ),
    ("pending", "critical", "ci-bot", "github:merge", "bob", "Merge release branches", (1, 10)),
    ("expired", "low", "docs-helper", "github:write", "alice", "Push docs fixes", (-200, -30)),
    (
        "expired",
        "medium",
        "ci-bot",
        "jira:write",
        "bob",
        "CI bot comments (first term)",
        (-100, -10),
    ),
    ("expired", "high", "ci-bot", "deploy:release", "bob", "Release 2.0 rollout", (-60, -31)),
    (
        "expired",
        "critical",
        "payments-fixer",
        "vault:read_secret",
        "alice",
        "Key rotation",
        (-40, -27),
    ),
    (
        "revoked",
        "low",
        "payments-fixer",
        "jira:write",
        "alice",
        "Ticket comments without JIT",
        (-50, 100),
    ),
    ("revoked", "medium", "ci-bot", "github:write", "bob", "CI bot pushes tags", (-20, 40)),
    (
        "revoked",
        "high",
        "ci-bot",
        "github:merge",
        "bob",
        "Merge without review",
        (-9, 15),
    ),
    (
        "revoked",
        "critical",
        "payments-fixer",
        "vault:read_secret",
        "alice",
        "Ledger key reads on Fridays",
        (-5, 5),
    ),
    (
        "rejected",
        "high",
        "docs-helper",
        "vault:read_secret",
        "alice",
        "Read prod secrets",
        (-3, 20),
    ),
)


def seed_exceptions() -> None:
    if PolicyException.objects.exists():
        return  # idempotent: demo exceptions are created once
    users, agents, caps = demo_cast()
    now = timezone.now()
    made = {}
    for status, risk, agent, key, requester, title, (start, end) in DEMO:
        starts_at = now + timedelta(days=start)
        exception = PolicyException.objects.create(
            title=title,
            agent=agents[agent],
            capability=caps[key],
            justification=f"Demo: {title.lower()}.",
            risk=risk,
            compensating_controls=CONTROLS if risk in ELEVATED_RISKS else "",
            requested_by=users[requester],
            starts_at=starts_at,
            expires_at=now + timedelta(days=end),
            status=status,
            required_approvals=required_approvals_for(risk),
        )
        created = starts_at - timedelta(days=1) if status != "pending" else now - timedelta(hours=3)
        approvers = [] if status in ("pending", "rejected") else ["sam", "sara"]
        for name in approvers[: exception.required_approvals]:
            ExceptionApproval.objects.create(exception=exception, approver=users[name])
        if status != "pending" and status != "rejected":
            exception.activated_at = created + timedelta(hours=4)
        if status == "expired":
            exception.expired_at = exception.expires_at
        if status == "revoked":
            exception.revoked_at = now - timedelta(days=1)
            exception.revoked_by = users["sara"]
            exception.revoke_reason = "Demo: the compensating control stopped reporting."
        if status == "rejected":
            exception.rejected_at = now - timedelta(days=2)
            exception.rejected_by = users["sam"]
            exception.rejection_comment = "Production secrets never go to a sandbox agent."
        exception.save()
        # auto_now_add wrote "now": backdate after the last full save.
        PolicyException.objects.filter(pk=exception.pk).update(created_at=created)
        made[(status, risk)] = exception
    # One of the two needed approvals on the pending high-risk exception.
    ExceptionApproval.objects.create(
        exception=made[("pending", "high")], approver=users["sam"], comment="Scope is fine."
    )
    # A renewal chain: the CI bot's ticket comments were renewed when the first term ended.
    renewal = made[("active", "medium")]
    renewal.renews = made[("expired", "medium")]
    renewal.save(update_fields=["renews"])
    # The high-risk one ends within 7 days: its first reminder has gone out.
    ExceptionReminder.objects.create(
        exception=made[("active", "high")], kind=ReminderKind.SEVEN_DAYS, sent_at=now
    )
