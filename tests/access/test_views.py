import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from access import services
from access.models import AccessRequest, Grant
from approvals.context import agent_context_sections
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "prod": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox"),
    }


def file_request(client, **overrides):
    data = {
        "agent": "pay-bot",
        "capability": "github:merge",
        "duration_hours": "2",
        "justification": "hotfix",
        **overrides,
    }
    return client.post("/requests/new/", data, follow=True)


def test_form_offers_only_my_agents_and_embeds_the_rules(client, engineer, other_engineer, world):
    AgentFactory(slug="not-mine", owner=other_engineer)
    client.force_login(engineer)
    page = client.get("/requests/new/").content.decode()
    assert 'value="pay-bot"' in page
    assert 'value="not-mine"' not in page
    assert '"github:merge": {"effect": "approval", "max": 4}' in page
    assert '"pay-bot": "production"' in page


def test_filing_through_the_form_and_approving_in_the_queue(
    client, engineer, security, second_security, world
):
    client.force_login(engineer)
    response = file_request(client)
    assert b"needs 2 security approvals." in response.content
    request = AccessRequest.objects.get()
    client.force_login(security)
    queue = client.get("/approvals/").content.decode()
    assert f'data-request="{request.pk}"' in queue
    client.post(f"/requests/{request.pk}/approve/", {"next": "/approvals/"})
    assert f'data-request="{request.pk}"' not in client.get("/approvals/").content.decode()
    client.force_login(second_security)
    response = client.post(f"/requests/{request.pk}/approve/", follow=True)
    assert b"approved: grant issued" in response.content
    assert Grant.objects.filter(request=request).exists()
    client.force_login(engineer)
    detail = client.get(f"/requests/{request.pk}/").content.decode()
    assert "sec1 approved" in detail
    assert "sec2 approved" in detail
    assert 'data-testid="grant"' in detail


def test_form_shows_policy_refusal_on_the_field(client, engineer, world):
    client.force_login(engineer)
    response = file_request(client, capability="vault:read_secret")
    assert "policy exception" in str(response.context["form"].errors["capability"])
    response = file_request(client, duration_hours="9")
    assert "the maximum is 4 hours" in str(response.context["form"].errors["duration_hours"])
    assert not AccessRequest.objects.exists()


def test_engineer_cannot_approve_and_forged_ids_are_404(client, engineer, other_engineer, world):
    client.force_login(engineer)
    file_request(client)
    request = AccessRequest.objects.get()
    response = client.post(f"/requests/{request.pk}/approve/")
    assert response.status_code == 403
    client.force_login(other_engineer)
    assert client.get(f"/requests/{request.pk}/").status_code == 404
    assert client.post(f"/requests/{request.pk}/cancel/").status_code == 404
    assert client.get("/requests/99999/").status_code == 404
    assert AccessRequest.objects.get().status == "pending"


def test_deny_without_comment_is_refused_with_a_message(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client)
    request = AccessRequest.objects.get()
    client.force_login(security)
    response = client.post(f"/requests/{request.pk}/deny/", {"comment": ""})
    assert response.status_code == 400
    assert b"Say why the request is denied" in response.content


def test_agent_page_shows_active_grants_with_time_left(client, engineer, world):
    client.force_login(engineer)
    file_request(client, agent="docs-bot", capability="github:write", duration_hours="8")
    page = client.get("/agents/docs-bot/").content.decode()
    assert "Active grants" in page
    assert "github:write" in page
    # 7 hours, 59 minutes: under a day, said in words as well as in colour
    assert 'data-urgency="soon"><strong>Under 24 hours:</strong> 7' in page


def test_dashboard_panels(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client)
    page = client.get("/").content.decode()
    assert 'data-panel="my-pending-requests"' in page
    client.force_login(security)
    panels = {p["key"]: p.get("value") for p in client.get("/").context["panels"]}
    assert panels["approval-queue"] == 1


def test_request_list_query_count(client, engineer, world, django_assert_num_queries):
    client.force_login(engineer)
    file_request(client)
    client.get("/requests/")
    # session, user, roles, the agents and capabilities to filter by, count, page, approvals
    with django_assert_num_queries(8):
        client.get("/requests/")
    for key in ("github:write", "jira:write", "deploy:release"):
        file_request(client, capability=key, duration_hours="1")
    with django_assert_num_queries(8):
        response = client.get("/requests/")
    assert len(response.context["page"].object_list) == 4


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"duration_hours": "abc"}, "duration_hours", "Enter the hours as a whole number."),
        ({"duration_hours": "0"}, "duration_hours", "Ask for at least 1 hour."),
        ({"duration_hours": "100001"}, "duration_hours", "Ask for at most 100000 hours"),
        ({"agent": "ghost"}, "agent", "Pick one of the agents listed"),
        ({"agent": "not-mine"}, "agent", "Pick one of the agents listed"),  # another team's
        ({"capability": "github:fly"}, "capability", "Pick one of the capabilities listed."),
        ({"justification": ""}, "justification", "Say why the agent needs this access."),
        ({"capability": "github:read", "agent": "docs-bot"}, "capability", "Nothing to request"),
        ({"break_glass": "on", "capability": "deploy:release"}, "incident", "incident reference"),
    ],
)
def test_bad_form_input_is_shown_and_changes_nothing(
    client, engineer, other_engineer, world, overrides, field, message
):
    AgentFactory(slug="not-mine", owner=other_engineer)
    client.force_login(engineer)
    response = file_request(client, **overrides)
    assert response.status_code == 400
    assert message in str(response.context["form"].errors[field])
    assert not AccessRequest.objects.exists()
    assert not Grant.objects.exists()


def test_break_glass_through_the_form(client, engineer, world):
    client.force_login(engineer)
    response = file_request(
        client, capability="deploy:release", duration_hours="1", break_glass="on", incident="INC-5"
    )
    assert b"approved: grant issued" in response.content
    request = AccessRequest.objects.get()
    assert (request.break_glass, request.incident) == (True, "INC-5")
    assert Grant.objects.filter(request=request).exists()


def test_security_revokes_from_the_request_page(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client, agent="docs-bot", capability="github:write", duration_hours="8")
    request = AccessRequest.objects.get()
    client.force_login(security)
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Revoke grant" in page
    grant = Grant.objects.get()
    response = client.post(
        f"/grants/{grant.pk}/revoke/",
        {"reason": "no longer needed", "next": f"/requests/{request.pk}/"},
        follow=True,
    )
    assert b"revoked" in response.content
    assert "revoked" in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_by == security
    again = client.post(f"/grants/{grant.pk}/revoke/", {"reason": "twice"})
    assert again.status_code == 400
    assert b"revoked already" in again.content


def _many_requests(world, engineer, n):
    """n pending requests from teammates, on fresh capabilities (no duplicate rule to trip)."""
    from access.models import Approval
    from tests.portal.factories import make_user
    from tests.registry.factories import capability

    mate = make_user("mate", "engineer")
    world["prod"].team.members.add(mate)
    approver = make_user("sec9", "security")
    first = AccessRequest.objects.count()
    for i in range(first, first + n):
        request = AccessRequest.objects.create(
            agent=world["prod"] if i % 2 else world["sandbox"],
            capability=capability(f"tool{i}:act", high_risk=bool(i % 3)),
            justification="j",
            duration_hours=1,
            requested_by=engineer if i % 2 else mate,
            effect="approval",
            policy_version=1,
            required_approvals=2,
            break_glass=i % 5 == 0,
            incident="INC" if i % 5 == 0 else "",
        )
        if i % 4 == 0:
            Approval.objects.create(request=request, approver=approver)


def test_approvals_page_query_count(client, engineer, security, world, django_assert_num_queries):
    _many_requests(world, engineer, 2)
    client.force_login(security)
    client.get("/approvals/")
    # session, user, roles; awaiting requests (with agent, capability, users, grant) and
    # their approvals; break-glass to review and their approvals; the exceptions section;
    # the identity bindings section; one per approvals.context provider that answers security
    # (the agents' active grants, their drift flags)
    queries = 9 + len(agent_context_sections.collect([world["prod"]], security))
    with django_assert_num_queries(queries):
        few = client.get("/approvals/")
    _many_requests(world, engineer, 40)
    with django_assert_num_queries(queries):
        many = client.get("/approvals/")

    def queued(response) -> int:
        return next(
            len(s["items"]) for s in response.context["sections"] if s["key"] == "access-requests"
        )

    assert (queued(few), queued(many)) == (2, 42)


def test_security_sees_every_request_with_a_constant_count(
    client, engineer, security, world, django_assert_num_queries
):
    _many_requests(world, engineer, 2)
    client.force_login(security)
    client.get("/requests/?all=1")
    with django_assert_num_queries(8):
        client.get("/requests/?all=1")
    _many_requests(world, engineer, 40)
    with django_assert_num_queries(8):
        response = client.get("/requests/?all=1&status=pending")
    assert len(response.context["page"].object_list) == 25


def test_agent_page_query_count(client, engineer, world, django_assert_num_queries):
    client.force_login(engineer)
    file_request(client, agent="docs-bot", capability="github:write", duration_hours="8")
    client.get("/agents/docs-bot/")
    # The page is the inventory's; other sections add their own queries. Measured, then held.
    baseline = _count(client, "/agents/docs-bot/")
    _many_requests(world, engineer, 30)
    for i in range(20):
        Grant.objects.create(
            agent=world["sandbox"],
            capability=Grant.objects.first().capability,
            scope=f"acme/{i}",
            starts_at=Grant.objects.first().starts_at,
            expires_at=Grant.objects.first().expires_at,
        )
    with django_assert_num_queries(baseline):
        page = client.get("/agents/docs-bot/").content.decode()
    assert page.count('data-testid="time-left"') == 21


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return len(queries)


def test_dashboard_access_panels_query_count(
    client, engineer, security, world, django_assert_num_queries
):
    _many_requests(world, engineer, 2)
    client.force_login(security)
    client.get("/")
    baseline = _count(client, "/")  # every app's panels; the access panels add five counts
    _many_requests(world, engineer, 40)
    with django_assert_num_queries(baseline):
        response = client.get("/")
    panels = {p["key"]: p.get("value") for p in response.context["panels"]}
    assert panels["approval-queue"] == 42
    assert panels["my-pending-requests"] == 0


def test_my_requests_show_each_grant_state(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client, agent="docs-bot", capability="github:write", duration_hours="1")
    file_request(client, capability="jira:write", duration_hours="1")  # jit on production
    services.grant_revoke(
        actor=security, grant=Grant.objects.get(agent__slug="docs-bot"), reason="done"
    )
    states = [
        s.strip() for s in client.get("/requests/").content.decode().split('grant-state">')[1:]
    ]
    assert sorted(s.split("<")[0] for s in states) == ["active", "revoked"]
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        page = client.get("/requests/").content.decode()
    assert page.count('data-testid="grant-state">expired<') == 1
    assert page.count('data-testid="grant-state">revoked<') == 1


def test_a_bad_status_filter_is_shown_on_the_page_not_a_500(client, engineer, world):
    client.force_login(engineer)
    response = client.get("/requests/?status=bogus")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "bogus is not one of the available choices" in page


def test_one_approval_and_one_hour_read_in_the_singular(client, engineer, world):
    client.force_login(engineer)
    response = file_request(client, capability="github:write", duration_hours="1")
    page = response.content.decode()
    request = AccessRequest.objects.get()
    assert f"Request #{request.pk} filed: it needs 1 security approval." in page
    assert "<dt>Duration</dt><dd>1 hour</dd>" in page
    assert "approval(s)" not in page


def test_break_glass_over_the_ceiling_says_one_hour_on_the_field(client, engineer, world):
    client.force_login(engineer)
    data = {"capability": "deploy:release", "break_glass": "on", "incident": "INC-1"}
    response = file_request(client, **data)
    errors = response.context["form"].errors
    assert errors["duration_hours"] == ["Break-glass access lasts at most 1 hour."]
    assert not AccessRequest.objects.exists()


COMMENT_INPUT = r'<input type="text" name="comment" [^>]*maxlength="4000">'


def test_approve_and_deny_comments_stop_at_the_servers_limit(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client)
    request = AccessRequest.objects.get()
    client.force_login(security)
    for url in (f"/requests/{request.pk}/", "/approvals/"):
        page = client.get(url).content.decode()
        assert (
            len(re.findall(r'<input type="text" name="comment" [^>]*maxlength="4000">', page)) == 2
        )


def test_a_justification_over_the_limit_is_refused_beside_its_field(client, engineer, world):
    client.force_login(engineer)
    form = client.get("/requests/new/").content.decode()
    assert re.search(r'<textarea name="justification" [^>]*maxlength="4000"', form)
    response = file_request(client, justification="why " * 1000 + "!")
    assert response.status_code == 400
    assert response.context["form"].errors["justification"] == [
        "Ensure this value has at most 4000 characters (it has 4001)."
    ]
    assert not AccessRequest.objects.exists()
