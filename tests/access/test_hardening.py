"""Hardening: approvals judge the present, break-glass is once at a time, suspension voids
access on the agent page, and grants are shown only to whom the grants API shows them."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from access import services
from access.break_glass import break_glass_request
from access.models import AccessRequest, Grant
from kernel.errors import ApplicationError
from portal.demo.registry import POLICY_V1
from tests.registry.factories import AgentFactory, TeamFactory, capability, publish_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    publish_policy(POLICY_V1, security)
    return {
        "prod": AgentFactory(slug="prod-bot", owner=engineer, team=team, tier="production"),
        "internal": AgentFactory(slug="internal-bot", owner=engineer, team=team, tier="internal"),
    }


def submit(actor, agent, key, hours=1):
    return services.access_request_submit(
        actor=actor,
        agent=agent,
        capability=capability(key),
        duration_hours=hours,
        justification="needed for the release",
    )


def approve(actor, access_request):
    return services.access_request_approve(actor=actor, access_request=access_request)


def republish(security, tier, key, rule):
    rules = {t: dict(r) for t, r in POLICY_V1.items()}
    rules[tier][key] = rule
    publish_policy(rules, security)


# --- 2. approvals re-check the present ------------------------------------------------------


@pytest.mark.parametrize("status", ["suspended", "retired"])
def test_no_grant_for_an_agent_suspended_while_its_request_waited(
    engineer, security, world, status
):
    request = submit(engineer, world["internal"], "deploy:release")
    world["internal"].status = status
    world["internal"].save()
    with pytest.raises(ApplicationError) as refused:
        approve(security, request)
    assert refused.value.code == "agent_inactive"
    assert status in refused.value.message
    request.refresh_from_db()
    assert request.status == "pending"
    assert not request.approvals.exists()
    assert not Grant.objects.exists()


def test_no_grant_when_the_latest_policy_now_denies(engineer, security, world):
    request = submit(engineer, world["internal"], "deploy:release")
    republish(security, "internal", "deploy:release", ("deny", None))
    with pytest.raises(ApplicationError) as refused:
        approve(security, request)
    assert refused.value.code == "policy_changed"
    assert "Policy v2 now says deny for deploy:release on internal agents" in refused.value.message
    assert not Grant.objects.exists()


def test_an_agent_moved_to_production_needs_a_second_approver(
    engineer, security, second_security, world
):
    agent = world["internal"]
    request = submit(engineer, agent, "deploy:release")
    assert request.required_approvals == 1
    agent.tier = "production"
    agent.save()
    first = approve(security, request)
    assert (first.status, first.required_approvals) == ("pending", 2)
    assert "production now needs two approvers" in first.decision_comment
    assert "waiting for a second" in first.decision_comment
    assert not Grant.objects.exists()
    second = approve(second_security, request)
    assert second.status == "approved"
    assert Grant.objects.filter(request=request).exists()


def test_the_grant_is_clamped_to_the_current_rule_and_says_so(engineer, security, world):
    request = submit(engineer, world["internal"], "deploy:release", hours=4)
    republish(security, "internal", "deploy:release", ("approval", 2))
    done = approve(security, request)
    grant = Grant.objects.get(request=request)
    assert grant.expires_at - grant.starts_at == timedelta(hours=2)
    assert done.duration_hours == 4  # what was asked stays on record
    assert "Granted for 2 hours, the most policy v2 allows now" in done.decision_comment


def test_a_stale_request_is_expired_on_approval_whether_or_not_beat_ran(engineer, security, world):
    request = submit(engineer, world["internal"], "deploy:release")
    later = timezone.now() + timedelta(days=settings.ACCESS_REQUEST_STALE_DAYS, minutes=1)
    with time_machine.travel(later, tick=False), pytest.raises(ApplicationError) as refused:
        approve(security, request)
    assert refused.value.code == "expired"
    assert "expired" in refused.value.message
    request.refresh_from_db()
    assert request.status == "expired"
    assert not Grant.objects.exists()


def test_the_api_approve_of_a_stale_request_is_a_400_naming_expiry(api, engineer, security, world):
    request = submit(engineer, world["internal"], "deploy:release")
    AccessRequest.objects.filter(pk=request.pk).update(
        created_at=timezone.now() - timedelta(days=settings.ACCESS_REQUEST_STALE_DAYS + 1)
    )
    response = api.as_user(security).post(
        f"/api/v1/access-requests/{request.pk}/approve/", {}, format="json"
    )
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]
    assert AccessRequest.objects.get(pk=request.pk).status == "expired"


# --- 5. break-glass: once at a time ----------------------------------------------------------


def glass(actor, agent, key="deploy:release"):
    return break_glass_request(
        actor=actor,
        agent=agent,
        capability=capability(key),
        duration_hours=1,
        justification="outage",
        incident="INC-1",
    )


def test_a_second_break_glass_while_the_first_awaits_review_is_refused(engineer, world):
    first = glass(engineer, world["prod"])
    with pytest.raises(ApplicationError) as refused:
        glass(engineer, world["prod"])
    assert refused.value.code == "break_glass_unreviewed"
    assert f"#{first.pk}" in refused.value.message
    assert AccessRequest.objects.filter(break_glass=True).count() == 1
    glass(engineer, world["prod"], "github:write")  # another capability is its own emergency


def test_a_reviewed_break_glass_still_active_blocks_another_until_it_ends(
    engineer, security, world
):
    first = glass(engineer, world["prod"])
    services.break_glass_review(actor=security, access_request=first, note="fine")
    with pytest.raises(ApplicationError) as refused:
        glass(engineer, world["prod"])
    assert refused.value.code == "break_glass_active"
    services.grant_revoke(actor=security, grant=first.grant, reason="done")
    assert glass(engineer, world["prod"]).break_glass


def test_the_api_refuses_a_second_break_glass_with_a_400(api, engineer, world):
    body = {
        "agent": "prod-bot",
        "capability": "deploy:release",
        "justification": "outage",
        "duration_hours": 1,
        "incident": "INC-1",
    }
    client = api.as_user(engineer)
    url = "/api/v1/access-requests/break-glass/"
    assert client.post(url, body, format="json").status_code == 201
    second = client.post(url, body, format="json")
    assert second.status_code == 400
    assert "awaits security's review" in second.json()["detail"]


# --- 4 and 9. the agent page -------------------------------------------------------------------


def test_a_suspended_agents_grants_are_shown_void(client, engineer, world):
    request = submit(engineer, world["prod"], "github:read")  # jit: granted at once
    agent = world["prod"]
    agent.status = "suspended"
    agent.save()
    client.force_login(engineer)
    page = client.get(f"/agents/{agent.slug}/").content.decode()
    assert f"#{request.grant.pk}" in page
    assert "void while the agent is suspended" in page


def test_an_active_agents_grants_are_not_void(client, engineer, world):
    submit(engineer, world["prod"], "github:read")
    client.force_login(engineer)
    assert "void while" not in client.get("/agents/prod-bot/").content.decode()


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("engineer", True),
        ("security", True),
        ("auditor", True),
        ("other_engineer", False),
        ("gateway", False),
    ],
)
def test_grant_details_on_the_agent_page_only_for_who_the_grants_api_shows(
    client, request, engineer, world, role, sees
):
    grant = submit(engineer, world["prod"], "github:read").grant
    user = request.getfixturevalue(role)
    client.force_login(user)
    response = client.get("/agents/prod-bot/")
    if response.status_code != 200:  # a role without the agent page sees nothing at all
        assert not sees
        return
    page = response.content.decode()
    section = page[page.index("Active grants") :]
    assert (f"#{grant.pk}" in section) is sees
    assert ("acme" in section or "github:read" in section) is sees
    if not sees:
        assert "1 active grant" in section
        assert "owner (eve)" in section  # whom to ask
        assert "<code>payments</code>" in section
