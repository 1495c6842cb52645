"""Demo access requests and grants: pending, approved, denied, expired, and one break-glass."""

from datetime import timedelta

from django.utils import timezone

from access.models import AccessRequest, Approval, Grant, RequestStatus
from access.services import required_approvals_for
from portal.demo.people import demo_cast


def seed_access() -> None:
    if AccessRequest.objects.exists():
        return  # idempotent: demo requests are created once
    users, agents, caps = demo_cast()
    now = timezone.now()

    def request(agent, cap, who, status, hours, effect, age=timedelta(hours=2), **kw):
        access_request = AccessRequest.objects.create(
            agent=agents[agent],
            capability=caps[cap],
            requested_by=users[who],
            status=status,
            duration_hours=hours,
            effect=effect,
            policy_version=1,
            # As access_request_submit stores it: the rule's number, or 0 when approved at once
            # (jit, break-glass).
            required_approvals=(
                required_approvals_for(agents[agent], caps[cap])
                if effect == "approval" and not kw.get("break_glass")
                else 0
            ),
            justification=kw.pop("justification", f"Demo: {agent} needs {cap}."),
            ticket=kw.pop("ticket", "DEMO-1"),
            **kw,
        )
        AccessRequest.objects.filter(pk=access_request.pk).update(created_at=now - age)
        return access_request

    def grant(access_request, start, hours):
        return Grant.objects.create(
            agent=access_request.agent,
            capability=access_request.capability,
            scope=access_request.scope,
            starts_at=start,
            expires_at=start + timedelta(hours=hours),
            request=access_request,
            expired=start + timedelta(hours=hours) <= now,
        )

    # Pending: a high-risk merge on production needs two approvers; one has approved.
    merge = request(
        "payments-fixer",
        "github:merge",
        "alice",
        RequestStatus.PENDING,
        2,
        "approval",
        justification="Merge the hotfix for the ledger bug.",
        scope="acme/ledger",
    )
    Approval.objects.create(request=merge, approver=users["sam"], comment="Looks right.")
    request(
        "ci-bot",
        "deploy:release",
        "bob",
        RequestStatus.PENDING,
        1,
        "approval",
        justification="Release 2.4 to internal.",
    )
    # Approved with an active grant (jit) and with approvals (approval).
    jit = request(
        "docs-helper",
        "github:write",
        "alice",
        RequestStatus.APPROVED,
        8,
        "jit",
        decided_at=now - timedelta(hours=1),
    )
    grant(jit, now - timedelta(hours=1), 8)
    approved = request(
        "ci-bot",
        "github:merge",
        "bob",
        RequestStatus.APPROVED,
        8,
        "approval",
        decided_at=now - timedelta(hours=7),
        decided_by=users["sara"],
    )
    Approval.objects.create(request=approved, approver=users["sara"])
    grant(approved, now - timedelta(hours=7), 8)  # expires within the hour
    # Denied and expired ones.
    request(
        "payments-fixer",
        "github:write",
        "alice",
        RequestStatus.DENIED,
        8,
        "approval",
        decided_by=users["sam"],
        decided_at=now - timedelta(days=2),
        decision_comment="Use the sandbox agent for this.",
        age=timedelta(days=2),
    )
    old = request(
        "payments-fixer",
        "github:read",
        "alice",
        RequestStatus.APPROVED,
        24,
        "jit",
        decided_at=now - timedelta(days=5),
        age=timedelta(days=5),
    )
    grant(old, now - timedelta(days=5), 24)
    request(
        "ci-bot",
        "vault:read_secret",
        "bob",
        RequestStatus.EXPIRED,
        1,
        "approval",
        decided_at=now - timedelta(days=1),
        age=timedelta(days=9),
        decision_comment="Not decided within 7 days.",
    )
    # Break-glass, waiting for security's review.
    glass = request(
        "payments-fixer",
        "deploy:release",
        "alice",
        RequestStatus.APPROVED,
        1,
        "approval",
        break_glass=True,
        incident="INC-2041",
        justification="Roll back the failed payments release.",
        decided_at=now - timedelta(minutes=30),
        age=timedelta(minutes=30),
    )
    grant(glass, now - timedelta(minutes=30), 1)
