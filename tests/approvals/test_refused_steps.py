"""Approve in every workflow (access requests, exceptions, identity bindings): one limit on the
approver's comment, and a refused step leaves a way back to where the approver was."""

import html

import pytest

from access.models import RequestStatus
from credentials.models import BindingStatus
from exceptions.models import ExceptionStatus
from kernel.validation import TEXT_MAX_LENGTH
from tests.approvals.test_context import file
from tests.credentials.pages import make_binding, make_provider
from tests.exceptions.factories import ExceptionFactory
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(engineer, security):
    demo_policy(security)
    team = TeamFactory(slug="payments", members=[engineer])
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")


def pending_request(engineer, agent):
    return file(engineer, agent, "github:merge"), "/requests/{}/approve/", RequestStatus.PENDING


def pending_exception(engineer, agent):
    exception = ExceptionFactory(agent=agent, requested_by=engineer, required_approvals=1)
    return exception, "/exceptions/{}/approve/", ExceptionStatus.PENDING


def pending_binding(engineer, agent):
    binding = make_binding(
        agent, make_provider("gha"), status=BindingStatus.PENDING, required_approvals=1
    )
    return binding, "/trust/bindings/{}/approve/", BindingStatus.PENDING


WORKFLOWS = {
    "access request": pending_request,
    "exception": pending_exception,
    "identity binding": pending_binding,
}


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_an_approval_comment_over_the_limit_is_refused_and_nothing_is_recorded(
    client, engineer, security, agent, workflow
):
    subject, approve, pending = WORKFLOWS[workflow](engineer, agent)
    client.force_login(security)
    refused = client.post(
        approve.format(subject.pk),
        {"comment": "x" * (TEXT_MAX_LENGTH + 1), "next": "/approvals/"},
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert f"comment is limited to {TEXT_MAX_LENGTH} characters." in page
    assert '<a href="/approvals/" data-testid="back">Back to the page you were on</a>' in page
    subject.refresh_from_db()
    assert subject.status == pending
    assert not subject.approvals.exists()

    done = client.post(approve.format(subject.pk), {"comment": "  checked  "})
    assert done.status_code == 302
    assert subject.approvals.get().comment == "checked"


def test_a_refused_step_without_a_next_links_to_the_objects_own_page(
    client, engineer, security, agent
):
    exception = ExceptionFactory(agent=agent, requested_by=security, required_approvals=1)
    client.force_login(security)
    refused = client.post(f"/exceptions/{exception.pk}/approve/")
    assert refused.status_code == 403
    page = html.unescape(refused.content.decode())
    assert "You requested this exception: someone else in security must approve it." in page
    assert (
        f'<a href="/exceptions/{exception.pk}/" data-testid="back">'
        "Back to the policy exception</a>" in page
    )


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"]
)
def test_a_next_off_this_site_is_not_offered_as_the_way_back(
    client, engineer, security, agent, elsewhere
):
    subject, approve, _ = pending_binding(engineer, agent)
    client.force_login(security)
    refused = client.post(
        approve.format(subject.pk), {"comment": "x" * (TEXT_MAX_LENGTH + 1), "next": elsewhere}
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert "evil.example" not in page
    assert "javascript:" not in page
    assert f'href="/agents/pay-bot/#binding-{subject.pk}" data-testid="back"' in page


def test_a_confirmation_refused_before_confirming_links_back_too(client, engineer, security, agent):
    """Revoke asks first; an exception that is not running has nothing to revoke: said on
    opening the confirmation (GET) and on a stale one posted (POST), each with a way back."""
    exception = ExceptionFactory(agent=agent, requested_by=engineer, required_approvals=1)
    client.force_login(security)
    opened = client.get(f"/exceptions/{exception.pk}/revoke/", {"next": "/approvals/"})
    assert opened.status_code == 400
    page = opened.content.decode()
    assert "is pending and not running: there is nothing to revoke." in page
    assert '<a href="/approvals/" data-testid="back">Back to the page you were on</a>' in page

    posted = client.post(f"/exceptions/{exception.pk}/revoke/", {"reason": "no longer needed"})
    assert posted.status_code == 400
    assert (
        f'<a href="/exceptions/{exception.pk}/" data-testid="back">'
        "Back to the policy exception</a>" in posted.content.decode()
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.PENDING
