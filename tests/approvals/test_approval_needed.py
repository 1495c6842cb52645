"""What the approval workflow tells people: "approval needed" goes to the security members
who may approve, not to whoever asked nor the agent's owner (approvals refuse both); "approved"
names who approved and what each said. In every workflow (bindings: tests/credentials/
test_binding_notices.py)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from access import services as access
from exceptions import services as exceptions
from kernel.models import OutboxMessage
from tests.exceptions.factories import ExceptionFactory
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(engineer, security, second_security):
    """pay-bot (production), owned by sec1, run by team payments with eve in it."""
    demo_policy(security)
    team = TeamFactory(slug="payments", members=[engineer, second_security])
    return AgentFactory(slug="pay-bot", owner=security, team=team, tier="production")


def test_a_request_security_filed_is_not_announced_to_them_nor_to_the_owner(
    engineer, security, second_security, agent, committed
):
    make_user("sec3", "security")
    with committed(execute=True):
        access.access_request_submit(
            actor=second_security,
            agent=agent,
            capability=capability("github:merge", high_risk=True),
            justification="hotfix",
            duration_hours=1,
        )
    (told,) = mail.outbox
    assert told.to == ["sec3@example.com"]
    assert "Approval needed" in told.subject
    assert "Needs 2 security approvals. Everything waiting for security: http" in told.body


def test_an_exception_filed_by_an_engineer_goes_to_security_but_the_owner(
    engineer, security, second_security, agent, committed
):
    with committed(execute=True):
        exceptions.exception_request(
            actor=engineer,
            title="Release during the migration",
            agent=agent,
            capability=capability("deploy:release", high_risk=True),
            justification="the pipeline moves this week",
            risk="critical",
            compensating_controls="two-person review",
            expires_at=timezone.now() + timedelta(days=10),
        )
    (told,) = mail.outbox
    assert told.to == ["sec2@example.com"]
    assert "Exception approval needed" in told.subject
    assert "Needs 2 security approvals. Everything waiting for security: http" in told.body


def test_the_requester_reads_who_approved_and_what_they_said(
    engineer, security, second_security, committed
):
    demo_policy(security)
    team = TeamFactory(slug="platform", members=[engineer])
    agent = AgentFactory(slug="ship-bot", owner=engineer, team=team, tier="production")
    request = access.access_request_submit(
        actor=engineer,
        agent=agent,
        capability=capability("github:merge", high_risk=True),
        justification="hotfix",
        duration_hours=1,
    )
    access.access_request_approve(actor=security, access_request=request, comment="PR reviewed")
    OutboxMessage.objects.all().delete()  # the filing's notice: not this test's
    with committed(execute=True):
        access.access_request_approve(actor=second_security, access_request=request)
    (told,) = mail.outbox
    assert told.to == ["eve@example.com"]
    assert "Approved by sec1 (“PR reviewed”) and sec2. Grant #" in told.body


def test_an_exception_approved_names_its_approver(engineer, security, committed):
    exception = ExceptionFactory(requested_by=engineer, required_approvals=1)
    with committed(execute=True):
        exceptions.exception_approve(actor=security, exception=exception, comment="")
    (told,) = mail.outbox
    assert "Approved by sec1.\n" in told.body
