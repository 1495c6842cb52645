from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from access import grant_upkeep, services
from access.break_glass import break_glass_request
from access.models import AccessRequest, Approval, Grant
from access.rules import grant_is_active
from access.selectors import requests_awaiting
from kernel.errors import ApplicationError, Forbidden
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "prod": AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox"),
        "internal": AgentFactory(slug="internal-bot", owner=engineer, team=team, tier="internal"),
        "team": team,
    }


def submit(actor, agent, key, hours=1, **extra):
    glass = extra.pop("break_glass", False)
    service = break_glass_request if glass else services.access_request_submit
    return service(
        actor=actor,
        agent=agent,
        capability=capability(key),
        duration_hours=hours,
        justification=extra.pop("justification", "needed for the release"),
        **extra,
    )


def test_jit_is_approved_at_once_with_a_grant(engineer, world):
    request = submit(engineer, world["sandbox"], "github:write", hours=8)
    assert request.status == "approved"
    grant = Grant.objects.get(request=request)
    assert grant.expires_at - grant.starts_at == timedelta(hours=8)
    assert grant_is_active(grant)


def test_approval_rule_waits_and_security_is_told(engineer, security, world, committed):
    with committed(execute=True):
        request = submit(engineer, world["sandbox"], "github:merge", hours=8)
    assert (request.status, request.required_approvals) == ("pending", 1)
    assert not Grant.objects.exists()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["sec1@example.com"]
    assert "Approval needed" in mail.outbox[0].subject


def test_high_risk_on_production_needs_two_approvers(engineer, world):
    assert submit(engineer, world["prod"], "github:merge").required_approvals == 2
    assert submit(engineer, world["prod"], "github:write").required_approvals == 1
    assert submit(engineer, world["internal"], "deploy:release").required_approvals == 1


def test_deny_rule_names_tier_capability_and_the_exception_route(engineer, world):
    with pytest.raises(ApplicationError) as refused:
        submit(engineer, world["prod"], "vault:read_secret")
    message = refused.value.message
    assert "denies vault:read_secret on production agents" in message
    assert "policy exception" in message
    assert refused.value.code == "policy_deny"
    assert not AccessRequest.objects.exists()


def test_no_rule_is_treated_as_deny(engineer, world):
    capability("slack:post")
    with pytest.raises(ApplicationError, match=r"has no rule for .* slack:post"):
        submit(engineer, world["sandbox"], "slack:post")


def test_standing_allow_has_nothing_to_request(engineer, world):
    with pytest.raises(ApplicationError, match="Nothing to request"):
        submit(engineer, world["sandbox"], "github:read")


def test_duration_above_the_maximum_states_the_maximum(engineer, world):
    with pytest.raises(ApplicationError, match="the maximum is 2 hours") as refused:
        submit(engineer, world["prod"], "deploy:release", hours=3)
    assert refused.value.extra["max_duration_hours"] == 2
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"justification": "  "}, "justification"),
        ({"hours": 0}, "at least 1"),
    ],
)
def test_bad_input_is_refused(engineer, world, overrides, message):
    hours = overrides.pop("hours", 1)
    with pytest.raises(ApplicationError, match=message):
        submit(engineer, world["sandbox"], "github:write", hours=hours, **overrides)


@pytest.mark.parametrize("hours", ["8.5", "eight", True])
def test_the_boundaries_refuse_hours_that_are_not_whole_numbers(engineer, world, hours):
    """The shape of the input is the form's and the serializer's to check, not the service's."""
    from access.api.serializers import AccessRequestIn, BreakGlassIn
    from access.forms import AccessRequestForm

    body = {"agent": "sandbox-bot", "capability": "github:write", "justification": "x"}
    for serializer in (AccessRequestIn, BreakGlassIn):
        checked = serializer(data={**body, "duration_hours": hours, "incident": "INC-1"})
        assert not checked.is_valid()
        assert "duration_hours" in checked.errors
    if hours is not True:
        form = AccessRequestForm({**body, "duration_hours": hours}, user=engineer)
        assert not form.is_valid()
        assert "duration_hours" in form.errors


def test_only_owner_or_team_member_requests(other_engineer, security, auditor, world):
    for outsider in (other_engineer, security, auditor):
        with pytest.raises(Forbidden, match="Only the owner of 'sandbox-bot'"):
            submit(outsider, world["sandbox"], "github:write")
    teammate = make_user("mate", "engineer")
    world["team"].members.add(teammate)
    assert submit(teammate, world["sandbox"], "github:write").status == "approved"


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_inactive_agents_cannot_get_access(engineer, world, status):
    agent = world["sandbox"]
    agent.status = status
    agent.save()
    with pytest.raises(ApplicationError, match=f"is {status}"):
        submit(engineer, agent, "github:write")


def test_a_second_identical_pending_request_is_refused(engineer, world):
    first = submit(engineer, world["sandbox"], "github:merge")
    with pytest.raises(ApplicationError, match=f"Request #{first.pk} .* already pending"):
        submit(engineer, world["sandbox"], "github:merge")


def test_the_database_holds_one_pending_request_per_access(engineer, world):
    from django.db import IntegrityError, transaction

    first = submit(engineer, world["sandbox"], "github:merge", scope="acme/*")
    assert submit(engineer, world["sandbox"], "github:merge", scope="acme/a").status == "pending"
    duplicate = AccessRequest(
        agent=first.agent,
        capability=first.capability,
        scope=first.scope,
        justification="raced past the check",
        duration_hours=1,
        requested_by=engineer,
        effect="approval",
        policy_version=1,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    services.access_request_cancel(actor=engineer, access_request=first)
    submit(engineer, world["sandbox"], "github:merge", scope="acme/*")  # decided ones don't count


def test_approval_issues_the_grant_and_tells_the_requester(engineer, security, world, committed):
    request = submit(engineer, world["sandbox"], "github:merge", hours=4)
    with committed(execute=True):
        services.access_request_approve(actor=security, access_request=request, comment="ok")
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("approved", security)
    grant = Grant.objects.get(request=request)
    assert grant.expires_at - grant.starts_at == timedelta(hours=4)
    # The outbox also delivers the "approval needed" notice the submit queued: nothing is lost.
    told = [m for m in mail.outbox if m.to == ["eve@example.com"]]
    assert len(told) == 1
    assert "approved" in told[0].subject
    assert any("Approval needed" in m.subject for m in mail.outbox if m.to == ["sec1@example.com"])


def test_two_approvals_needed_the_first_does_not_grant(engineer, security, second_security, world):
    request = submit(engineer, world["prod"], "github:merge")
    services.access_request_approve(actor=security, access_request=request)
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Grant.objects.exists()
    assert list(requests_awaiting(security)) == []
    assert list(requests_awaiting(second_security)) == [request]
    services.access_request_approve(actor=second_security, access_request=request)
    request.refresh_from_db()
    assert request.status == "approved"
    assert Grant.objects.filter(request=request).count() == 1


def test_the_same_person_counts_once(engineer, security, world):
    request = submit(engineer, world["prod"], "github:merge")
    services.access_request_approve(actor=security, access_request=request)
    with pytest.raises(ApplicationError, match="approved this request already"):
        services.access_request_approve(actor=security, access_request=request)
    assert Approval.objects.filter(request=request).count() == 1


def test_nobody_approves_their_own_request(world):
    sec_engineer = make_user("secdev", "security")
    world["team"].members.add(sec_engineer)
    request = submit(sec_engineer, world["sandbox"], "github:merge")
    with pytest.raises(Forbidden, match="your own request"):
        services.access_request_approve(actor=sec_engineer, access_request=request)


def test_nobody_approves_for_an_agent_they_own(engineer, world):
    owner = make_user("secowner", "security")
    agent = AgentFactory(slug="owned", owner=owner, team=world["team"], tier="sandbox")
    request = submit(engineer, agent, "github:merge")
    with pytest.raises(Forbidden, match="You own this agent"):
        services.access_request_approve(actor=owner, access_request=request)


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway"])
def test_only_security_approves(role_users, world, engineer, role):
    request = submit(engineer, world["sandbox"], "github:merge")
    with pytest.raises(Forbidden, match="Only security approves"):
        services.access_request_approve(actor=role_users[role], access_request=request)
    assert not Approval.objects.exists()


# (from status, transition) -> allowed. Every pair of the request pipeline.
TRANSITIONS = ["approve", "deny", "cancel"]
FINAL = ["approved", "denied", "cancelled", "expired"]


@pytest.mark.parametrize("final", FINAL)
@pytest.mark.parametrize("transition", TRANSITIONS)
def test_decided_requests_cannot_move_again(engineer, security, world, final, transition):
    request = submit(engineer, world["sandbox"], "github:merge")
    AccessRequest.objects.filter(pk=request.pk).update(status=final)
    actor = engineer if transition == "cancel" else security
    kwargs = {"comment": "no"} if transition == "deny" else {}
    service = getattr(services, f"access_request_{transition}")
    asked = {"approve": "approved", "deny": "denied", "cancel": "cancelled"}[transition]
    said = f"is already {final}." if asked == final else f"is {final}; it cannot become {asked}."
    with pytest.raises(ApplicationError, match=said):
        service(actor=actor, access_request=request, **kwargs)
    assert not Grant.objects.exists()


def test_cancelled_request_can_never_be_approved(engineer, security, world):
    request = submit(engineer, world["sandbox"], "github:merge")
    services.access_request_cancel(actor=engineer, access_request=request)
    with pytest.raises(ApplicationError, match="cancelled; it cannot become approved"):
        services.access_request_approve(actor=security, access_request=request)
    assert not Grant.objects.exists()


def test_deny_needs_a_comment_and_tells_the_requester(engineer, security, world, committed):
    request = submit(engineer, world["sandbox"], "github:merge")
    with pytest.raises(ApplicationError, match="comment"):
        services.access_request_deny(actor=security, access_request=request, comment=" ")
    with committed(execute=True):
        services.access_request_deny(actor=security, access_request=request, comment="use sandbox")
    request.refresh_from_db()
    assert (request.status, request.decision_comment) == ("denied", "use sandbox")
    told = [m for m in mail.outbox if m.to == ["eve@example.com"]]
    assert len(told) == 1
    assert "denied" in told[0].subject
    assert "use sandbox" in told[0].body


def test_only_the_requester_cancels(engineer, security, world):
    teammate = make_user("mate", "engineer")
    world["team"].members.add(teammate)
    request = submit(engineer, world["sandbox"], "github:merge")
    for other in (teammate, security):
        with pytest.raises(Forbidden, match="Only the person who filed"):
            services.access_request_cancel(actor=other, access_request=request)


def test_grant_expires_by_time_without_the_task(engineer, world):
    request = submit(engineer, world["sandbox"], "github:write", hours=2)
    grant = Grant.objects.get(request=request)
    with time_machine.travel(grant.expires_at - timedelta(seconds=1)):
        assert grant_is_active(grant)
    with time_machine.travel(grant.expires_at):
        assert not grant_is_active(grant)
        assert grant_upkeep.grants_mark_expired() == 1
    grant.refresh_from_db()
    assert grant.expired


def test_revoke_needs_security_and_a_reason_and_ends_it_now(engineer, security, world):
    grant = Grant.objects.get(request=submit(engineer, world["sandbox"], "github:write"))
    with pytest.raises(Forbidden):
        services.grant_revoke(actor=engineer, grant=grant, reason="mine")
    with pytest.raises(ApplicationError, match="reason"):
        services.grant_revoke(actor=security, grant=grant, reason="")
    services.grant_revoke(actor=security, grant=grant, reason="suspicious use")
    grant.refresh_from_db()
    assert not grant_is_active(grant)
    assert (grant.revoked_by, grant.revoke_reason) == (security, "suspicious use")
    with pytest.raises(ApplicationError, match="revoked already"):
        services.grant_revoke(actor=security, grant=grant, reason="again")


def test_stale_pending_requests_expire_and_requesters_are_told(
    engineer, world, settings, committed
):
    settings.ACCESS_REQUEST_STALE_DAYS = 7
    request = submit(engineer, world["sandbox"], "github:merge")
    with time_machine.travel(timezone.now() + timedelta(days=6)):
        assert services.access_requests_expire_stale() == 0
    with (
        time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)),
        committed(execute=True),
    ):
        assert services.access_requests_expire_stale() == 1
    request.refresh_from_db()
    assert request.status == "expired"
    told = [m for m in mail.outbox if m.to == ["eve@example.com"]]
    assert len(told) == 1
    assert "Not decided within 7 days" in told[0].body


def test_owner_is_reminded_once_an_hour_before_expiry(engineer, world, committed):
    grant = Grant.objects.get(request=submit(engineer, world["sandbox"], "github:write", hours=8))
    with time_machine.travel(grant.expires_at - timedelta(hours=2)):
        assert grant_upkeep.grants_remind_expiring() == 0
    with (
        time_machine.travel(grant.expires_at - timedelta(minutes=50), tick=False),
        committed(execute=True),
    ):
        assert grant_upkeep.grants_remind_expiring() == 1
        assert grant_upkeep.grants_remind_expiring() == 0
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["eve@example.com"]
    assert "expires in 50 minutes" in mail.outbox[0].subject


def test_break_glass_issues_at_once_alerts_security_and_waits_for_review(
    engineer, security, world, committed
):
    with committed(execute=True):
        request = submit(
            engineer, world["prod"], "deploy:release", hours=1, break_glass=True, incident="INC-7"
        )
    assert (request.status, request.break_glass) == ("approved", True)
    assert grant_is_active(Grant.objects.get(request=request))
    assert "BREAK-GLASS" in mail.outbox[0].subject
    from access.selectors import break_glass_awaiting_review

    assert list(break_glass_awaiting_review(security)) == [request]
    services.break_glass_review(actor=security, access_request=request, note="rollback, fine")
    assert list(break_glass_awaiting_review(security)) == []


@pytest.mark.parametrize(
    ("agent", "key", "extra", "message"),
    [
        ("prod", "deploy:release", {"hours": 2, "incident": "INC-1"}, "at most 1 hour"),
        ("prod", "deploy:release", {"incident": ""}, "incident reference"),
        ("sandbox", "github:merge", {"incident": "INC-1"}, "production agents"),
        ("prod", "github:read", {"incident": "INC-1"}, "need approval"),
    ],
)
def test_break_glass_limits(engineer, world, agent, key, extra, message):
    hours = extra.pop("hours", 1)
    with pytest.raises(ApplicationError, match=message):
        submit(engineer, world[agent], key, hours=hours, break_glass=True, **extra)
    assert not Grant.objects.exists()


def test_only_the_owner_breaks_glass(world):
    teammate = make_user("mate", "engineer")
    world["team"].members.add(teammate)
    with pytest.raises(Forbidden, match="Only the agent's owner"):
        submit(teammate, world["prod"], "deploy:release", break_glass=True, incident="INC-1")
