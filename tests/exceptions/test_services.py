"""Every rule of exceptions, at the service layer: limits, SoD, transitions, renewal, time."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from decisions.selectors import decision_facts
from exceptions import services, upkeep
from exceptions.limits import MAX_DAYS
from exceptions.models import (
    ExceptionApproval,
    PolicyException,
)
from exceptions.rules import exception_is_in_force
from kernel.errors import ApplicationError, Forbidden
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import ExceptionFactory, active_exception, decided_exception
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory

pytestmark = pytest.mark.django_db


def file(actor, world, **overrides):
    data = {
        "title": "Read the payments signing key",
        "agent": world["agent"],
        "capability": world["vault"],
        "justification": "Key rotation INC-7",
        "risk": "high",
        "compensating_controls": "Alert on every read",
        "expires_at": in_days(10),
        **overrides,
    }
    return services.exception_request(actor=actor, **data)


# --- filing -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("risk", "approvals"), [("low", 1), ("medium", 1), ("high", 2), ("critical", 2)]
)
def test_filing_is_pending_and_needs_approvals_by_risk(engineer, world, risk, approvals):
    exception = file(engineer, world, risk=risk, capability=world["jira"])
    assert exception.status == "pending"
    assert exception.required_approvals == approvals
    assert exception.requested_by == engineer
    assert not exception_is_in_force(exception)


@pytest.mark.parametrize("risk", list(MAX_DAYS))
def test_the_maximum_length_is_allowed_and_a_minute_more_is_refused(engineer, world, risk):
    start = in_days(1)
    file(
        engineer,
        world,
        risk=risk,
        capability=world["jira"],
        starts_at=start,
        expires_at=start + timedelta(days=MAX_DAYS[risk]),
    )
    PolicyException.objects.all().delete()
    with pytest.raises(ApplicationError) as refused:
        file(
            engineer,
            world,
            risk=risk,
            capability=world["jira"],
            starts_at=start,
            expires_at=start + timedelta(days=MAX_DAYS[risk], minutes=1),
        )
    assert refused.value.code == "too_long"
    assert refused.value.field == "expires_at"
    assert f"at most {MAX_DAYS[risk]} days" in refused.value.message
    assert refused.value.extra == {"max_days": MAX_DAYS[risk]}
    assert not PolicyException.objects.exists()


@pytest.mark.parametrize(
    ("risk", "required"), [("low", False), ("medium", False), ("high", True), ("critical", True)]
)
def test_compensating_controls_are_required_for_high_and_critical(engineer, world, risk, required):
    if required:
        with pytest.raises(ApplicationError) as refused:
            file(engineer, world, risk=risk, compensating_controls="   ", capability=world["jira"])
        assert refused.value.code == "compensating_controls_required"
        assert not PolicyException.objects.exists()
    else:
        assert file(
            engineer, world, risk=risk, compensating_controls="", capability=world["jira"]
        ).pk


@pytest.mark.parametrize(
    ("starts", "expires", "field", "code"),
    [
        (1, 0.5, "expires_at", "invalid_window"),
        (1, 1, "expires_at", "invalid_window"),
        (-1, 3, "starts_at", "starts_in_past"),
        (-0.01, 3, "starts_at", "starts_in_past"),  # 14 minutes ago: beyond the tolerance
    ],
)
def test_bad_windows_are_refused(engineer, world, starts, expires, field, code):
    now = timezone.now()
    with pytest.raises(ApplicationError) as refused:
        file(
            engineer,
            world,
            starts_at=now + timedelta(days=starts),
            expires_at=now + timedelta(days=expires),
        )
    assert (refused.value.field, refused.value.code) == (field, code)
    assert not PolicyException.objects.exists()


def test_a_start_a_moment_ago_is_tolerated_and_a_future_start_waits(
    engineer, world, security, second_security
):
    assert file(engineer, world, starts_at=timezone.now() - timedelta(minutes=2)).pk
    PolicyException.objects.all().delete()
    later = file(engineer, world, starts_at=in_days(2), expires_at=in_days(5))
    services.exception_approve(actor=security, exception=later)
    services.exception_approve(actor=second_security, exception=later)
    later.refresh_from_db()
    assert later.status == "active"
    assert not exception_is_in_force(later)
    with time_machine.travel(in_days(2.1)):
        assert exception_is_in_force(later)


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("engineer", True),  # owner
        ("team_member", True),
        ("security", True),
        ("other_engineer", False),
        ("auditor", False),
        ("gateway", False),
    ],
)
def test_who_may_request_for_an_agent(world, users, who, allowed):
    actor = users.get(who) or make_user("tina", "engineer")
    if who == "team_member":
        world["agent"].team.members.add(actor)
    if allowed:
        assert file(actor, world).requested_by == actor
    else:
        with pytest.raises(Forbidden):
            file(actor, world)
        assert not PolicyException.objects.exists()


def test_inactive_agents_and_duplicates_are_refused(engineer, world):
    file(engineer, world)
    with pytest.raises(ApplicationError) as duplicate:
        file(engineer, world)
    assert duplicate.value.code == "duplicate_exception"
    suspended = AgentFactory(slug="off-bot", owner=engineer, status="suspended")
    with pytest.raises(ApplicationError) as inactive:
        file(engineer, world, agent=suspended)
    assert inactive.value.code == "agent_inactive"
    assert PolicyException.objects.count() == 1


# --- approval -----------------------------------------------------------------------------


def test_high_risk_needs_two_distinct_security_approvers(
    engineer, security, second_security, world
):
    exception = file(engineer, world)
    services.exception_approve(actor=security, exception=exception, comment="ok")
    exception.refresh_from_db()
    assert exception.status == "pending"
    with pytest.raises(ApplicationError) as twice:
        services.exception_approve(actor=security, exception=exception)
    assert twice.value.code == "already_approved"
    assert decided_exception(agent_id=world["agent"].pk, capability_id=world["vault"].pk) is None
    services.exception_approve(actor=second_security, exception=exception)
    exception.refresh_from_db()
    assert exception.status == "active"
    assert exception.activated_at is not None
    assert (
        decided_exception(agent_id=world["agent"].pk, capability_id=world["vault"].pk) == exception
    )
    assert ExceptionApproval.objects.filter(exception=exception).count() == 2


def test_low_risk_is_active_after_one_approval(engineer, security, world):
    exception = file(engineer, world, risk="low", capability=world["jira"])
    services.exception_approve(actor=security, exception=exception)
    exception.refresh_from_db()
    assert exception.status == "active"


def test_nobody_approves_their_own_exception_nor_one_for_an_agent_they_own(security, world):
    own_request = file(security, world, risk="low", capability=world["jira"])
    with pytest.raises(Forbidden, match="You requested"):
        services.exception_approve(actor=security, exception=own_request)
    own_agent = AgentFactory(slug="sec-bot", owner=make_user("secowner", "security"))
    exception = file(security, world, risk="low", agent=own_agent, capability=world["jira"])
    with pytest.raises(Forbidden, match="You own this agent"):
        services.exception_approve(actor=own_agent.owner, exception=exception)
    assert not ExceptionApproval.objects.exists()


@pytest.mark.parametrize("who", ["engineer", "other_engineer", "auditor", "gateway"])
def test_only_security_approves_rejects_and_revokes(users, world, who):
    pending = ExceptionFactory(agent=world["agent"], requested_by=users["engineer"])
    active = active_exception(agent=world["agent"], capability=world["merge"])
    with pytest.raises(Forbidden):
        services.exception_approve(actor=users[who], exception=pending)
    with pytest.raises(Forbidden):
        services.exception_reject(actor=users[who], exception=pending, comment="no")
    with pytest.raises(Forbidden):
        services.exception_revoke(actor=users[who], exception=active, reason="no")
    pending.refresh_from_db()
    active.refresh_from_db()
    assert (pending.status, active.status) == ("pending", "active")


def test_reject_needs_a_comment(engineer, security, world):
    exception = file(engineer, world)
    for blank in ["", "   ", None]:
        with pytest.raises(ApplicationError) as refused:
            services.exception_reject(actor=security, exception=exception, comment=blank)
        assert refused.value.field == "comment"
    services.exception_reject(actor=security, exception=exception, comment="Use a vault role.")
    exception.refresh_from_db()
    assert (exception.status, exception.rejected_by, exception.rejection_comment) == (
        "rejected",
        security,
        "Use a vault role.",
    )
    with pytest.raises(ApplicationError, match="cannot become active"):
        services.exception_approve(actor=security, exception=exception)


def test_an_approval_after_the_window_passed_is_refused(engineer, security, world):
    exception = file(engineer, world, risk="low", expires_at=in_days(1), capability=world["jira"])
    with time_machine.travel(in_days(1.5)), pytest.raises(ApplicationError) as refused:
        services.exception_approve(actor=security, exception=exception)
    assert refused.value.code == "window_passed"


# --- revocation and expiry --------------------------------------------------------------


def test_revocation_takes_effect_at_once_and_needs_a_reason(security, world):
    exception = active_exception(agent=world["agent"], capability=world["vault"])
    key = {"agent_id": world["agent"].pk, "capability_id": world["vault"].pk}
    assert decided_exception(**key) == exception
    with pytest.raises(ApplicationError) as refused:
        services.exception_revoke(actor=security, exception=exception, reason=" ")
    assert refused.value.field == "reason"
    before = timezone.now()
    services.exception_revoke(actor=security, exception=exception, reason="Key leaked")
    exception.refresh_from_db()
    assert (exception.status, exception.revoked_by, exception.revoke_reason) == (
        "revoked",
        security,
        "Key leaked",
    )
    assert decided_exception(**key) is None
    # It was in force before the revocation, and stays readable.
    assert decided_exception(**key, at=before - timedelta(seconds=1)) == exception
    assert PolicyException.objects.filter(pk=exception.pk).exists()


def test_expiry_takes_effect_without_the_beat_task(world):
    exception = active_exception(
        agent=world["agent"], capability=world["vault"], expires_at=in_days(2)
    )
    key = {"agent_id": world["agent"].pk, "capability_id": world["vault"].pk}
    with time_machine.travel(in_days(2) + timedelta(seconds=1)):
        assert decided_exception(**key) is None  # nothing marked it expired yet
        exception.refresh_from_db()
        assert exception.status == "active"
        assert upkeep.exceptions_mark_expired() == 1
        assert upkeep.exceptions_mark_expired() == 0
    exception.refresh_from_db()
    assert exception.status == "expired"
    assert exception.expired_at is not None
    assert decided_exception(**key, at=in_days(1)) == exception  # history still answers


def test_an_expired_exception_cannot_be_revoked(security, world):
    exception = active_exception(agent=world["agent"], expires_at=in_days(1))
    with time_machine.travel(in_days(1.5)), pytest.raises(ApplicationError):
        services.exception_revoke(actor=security, exception=exception, reason="late")


def test_the_active_exception_lookup_is_one_query_and_exact(world, django_assert_num_queries):
    agent, vault = world["agent"], world["vault"]
    ExceptionFactory(agent=agent, capability=vault)  # pending: never counts
    ExceptionFactory(agent=agent, capability=vault, status="rejected")
    active_exception(agent=world["other_agent"], capability=vault)
    active_exception(agent=agent, capability=world["merge"])
    assert decided_exception(agent_id=agent.pk, capability_id=vault.pk) is None
    wanted = active_exception(agent=agent, capability=vault)
    with django_assert_num_queries(1):
        found = decision_facts(agent_slug=agent.slug, capability_id=vault.pk, at=timezone.now())
    assert found.exception_ids == [wanted.pk]


def test_an_exception_for_what_the_policy_allows_standing_is_refused_unless_it_names_controls(
    engineer, security, world
):
    """The policy allows github:read on internal agents standing: an exception for it would
    except nothing (as an access request for it is 'nothing to request'). One that names the
    controls it deviates from is a deviation from those, and is filed."""
    from controls.models import Control
    from registry.models import Capability
    from tests.registry.factories import demo_policy

    demo_policy(security)
    read = Capability.objects.get(key="github:read")
    with pytest.raises(ApplicationError) as refused:
        file(engineer, world, capability=read, risk="low", compensating_controls="")
    assert refused.value.code == "standing_allow"
    assert "Nothing to except: policy v1 allows github:read on internal agents standing" in str(
        refused.value.message
    )
    assert not PolicyException.objects.filter(capability=read).exists()

    logging = Control.objects.get(ref_id="AGC-05")
    filed = file(engineer, world, capability=read, risk="low", controls=[logging])
    assert list(filed.controls.values_list("ref_id", flat=True)) == ["AGC-05"]
