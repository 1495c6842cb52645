"""Two security members press the final Approve at the same moment (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from access import services
from access.models import AccessRequest, Approval, Grant
from kernel.errors import ApplicationError
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_two_simultaneous_final_approvals_issue_exactly_one_grant():
    owner = make_user("owner", "engineer")
    approvers = [make_user(f"approver{i}", "security") for i in range(3)]
    team = TeamFactory(slug="payments", members=[owner])
    demo_policy(approvers[0])
    agent = AgentFactory(slug="pay-bot", owner=owner, team=team, tier="production")
    request = services.access_request_submit(
        actor=owner,
        agent=agent,
        capability=capability("github:merge"),
        duration_hours=1,
        justification="hotfix",
    )
    services.access_request_approve(actor=approvers[0], access_request=request)

    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(user):
        try:
            barrier.wait()
            services.access_request_approve(actor=user, access_request=request)
            outcomes.append("approved")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(user,)) for user in approvers[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["approved", "invalid_transition"]
    assert Grant.objects.filter(request=request).count() == 1
    assert Approval.objects.filter(request=request).count() == 2
    request.refresh_from_db()
    assert request.status == "approved"


def test_the_same_person_racing_themself_counts_once():
    owner = make_user("owner", "engineer")
    approver = make_user("approver", "security")
    team = TeamFactory(slug="payments", members=[owner])
    demo_policy(approver)
    agent = AgentFactory(slug="pay-bot", owner=owner, team=team, tier="production")
    request = services.access_request_submit(
        actor=owner,
        agent=agent,
        capability=capability("github:merge"),
        duration_hours=1,
        justification="hotfix",
    )
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve():
        try:
            barrier.wait()
            services.access_request_approve(actor=approver, access_request=request)
            outcomes.append("ok")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["already_approved", "ok"]
    assert Approval.objects.filter(request=request).count() == 1
    assert not Grant.objects.exists()


def test_two_simultaneous_identical_submits_file_one_request():
    owner = make_user("owner", "engineer")
    team = TeamFactory(slug="payments", members=[owner])
    demo_policy(make_user("author", "security"))
    agent = AgentFactory(slug="pay-bot", owner=owner, team=team, tier="production")
    merge = capability("github:merge")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def submit():
        try:
            barrier.wait()
            services.access_request_submit(
                actor=owner, agent=agent, capability=merge, duration_hours=1, justification="x"
            )
            outcomes.append("filed")
        except ApplicationError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["duplicate_request", "filed"]
    assert AccessRequest.objects.filter(status="pending").count() == 1
