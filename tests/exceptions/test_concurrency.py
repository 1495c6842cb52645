"""Two security members press the final Approve at the same moment (PostgreSQL row locks)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from exceptions import services
from exceptions.models import ExceptionApproval, PolicyException
from kernel.errors import ApplicationError
from tests.exceptions.conftest import in_days
from tests.exceptions.factories import ExceptionFactory
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []

    def run(call):
        try:
            barrier.wait()
            outcomes.append(call().status)
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(outcomes)


@pytest.fixture
def pending():
    owner = make_user("owner", "engineer")
    agent = AgentFactory(
        slug="pay-bot", owner=owner, team=TeamFactory(slug="payments"), tier="production"
    )
    return services.exception_request(
        actor=owner,
        title="Signing key",
        agent=agent,
        capability=capability("vault:read_secret", high_risk=True),
        justification="rotation",
        risk="critical",
        compensating_controls="alerting",
        expires_at=in_days(7),
    )


def test_two_simultaneous_final_approvals_activate_it_once(pending):
    approvers = [make_user(f"approver{i}", "security") for i in range(3)]
    services.exception_approve(actor=approvers[0], exception=pending)
    outcomes = race(
        [
            lambda user=user: services.exception_approve(actor=user, exception=pending)
            for user in approvers[1:]
        ]
    )
    # The loser re-reads the row after the winner commits and finds it active.
    assert outcomes == ["active", "invalid_transition"]
    pending.refresh_from_db()
    assert pending.status == "active"
    assert ExceptionApproval.objects.filter(exception=pending).count() == 2


def test_the_same_person_racing_themself_counts_once(pending):
    approver = make_user("approver", "security")
    call = lambda: services.exception_approve(actor=approver, exception=pending)  # noqa: E731
    assert race([call, call]) == ["already_approved", "pending"]
    assert ExceptionApproval.objects.filter(exception=pending).count() == 1


def test_approve_and_reject_at_once_leave_one_outcome(pending):
    first, second = make_user("a1", "security"), make_user("a2", "security")
    services.exception_approve(actor=first, exception=pending)
    outcomes = race(
        [
            lambda: services.exception_approve(actor=second, exception=pending),
            lambda: services.exception_reject(actor=first, exception=pending, comment="no"),
        ]
    )
    pending.refresh_from_db()
    assert outcomes in (["active", "invalid_transition"], ["invalid_transition", "rejected"])
    assert pending.status in ("active", "rejected")
    assert PolicyException.objects.count() == 1


def test_withdraw_and_the_final_approval_at_once_leave_one_outcome(pending):
    first, second = make_user("a1", "security"), make_user("a2", "security")
    services.exception_approve(actor=first, exception=pending)
    outcomes = race(
        [
            lambda: services.exception_approve(actor=second, exception=pending),
            lambda: services.exception_withdraw(actor=pending.requested_by, exception=pending),
        ]
    )
    pending.refresh_from_db()
    # Whoever locks the row second finds it no longer pending: never approved once withdrawn.
    assert outcomes in (["active", "invalid_transition"], ["invalid_transition", "withdrawn"])
    assert pending.status in ("active", "withdrawn")
    assert (pending.withdrawn_at is None) == (pending.status == "active")


def test_two_renewals_of_one_exception_approved_at_once_leave_one_in_force():
    owner = make_user("owner", "engineer")
    agent = AgentFactory(slug="docs-bot", owner=owner, team=TeamFactory(slug="docs"))
    old = ExceptionFactory(agent=agent, capability=capability("jira:write"), status="active")
    # Two renewals pending at once (filed before one-renewal-at-a-time, or written directly).
    renewals = [
        ExceptionFactory(
            agent=agent,
            capability=old.capability,
            renews=old,
            starts_at=old.expires_at,
            expires_at=old.expires_at + timedelta(days=10),
        )
        for _ in range(2)
    ]
    approvers = [make_user(f"approver{i}", "security") for i in range(2)]
    outcomes = race(
        [
            lambda user=user, renewal=renewal: services.exception_approve(
                actor=user, exception=renewal
            )
            for user, renewal in zip(approvers, renewals, strict=True)
        ]
    )
    assert outcomes == ["active", "already_renewed"]
    assert PolicyException.objects.filter(renews=old, status="active").count() == 1


def _stacked_asks(agent, cap):
    """Two people ask at once for overlapping exceptions for the same agent and capability."""
    return [
        lambda n=n: services.exception_request(
            actor=agent.owner,
            title=f"Ticket comments {n}",
            agent=agent,
            capability=cap,
            justification="backlog clean-up",
            risk="low",
            expires_at=in_days(10 + n),
        )
        for n in range(2)
    ]


def test_two_overlapping_exceptions_filed_at_once_leave_one_pending():
    owner = make_user("owner", "engineer")
    agent = AgentFactory(slug="docs-bot", owner=owner, team=TeamFactory(slug="docs"))
    outcomes = race(_stacked_asks(agent, capability("jira:write")))
    # The second takes the agent and capability's lock after the first commits, and sees it.
    assert outcomes == ["duplicate_exception", "pending"]
    assert PolicyException.objects.filter(agent=agent).count() == 1


def test_two_overlapping_exceptions_approved_at_once_leave_one_in_force():
    owner = make_user("owner", "engineer")
    agent = AgentFactory(slug="docs-bot", owner=owner, team=TeamFactory(slug="docs"))
    cap = capability("jira:write")
    # Two pending at once (filed before the rule, or written directly), windows overlapping.
    stacked = [
        ExceptionFactory(agent=agent, capability=cap, expires_at=in_days(days)) for days in (10, 20)
    ]
    approvers = [make_user(f"approver{i}", "security") for i in range(2)]
    outcomes = race(
        [
            lambda user=user, exception=exception: services.exception_approve(
                actor=user, exception=exception
            )
            for user, exception in zip(approvers, stacked, strict=True)
        ]
    )
    assert outcomes == ["active", "overlapping_exception"]
    assert PolicyException.objects.filter(agent=agent, status="active").count() == 1
