"""The leaver's path end to end: a person provisioned by SCIM owns an agent and waits for
access; the IdP deactivates them (or deletes them). Their token and session stop working, the
pending request is cancelled saying why, the agent shows as orphaned, and nothing of theirs
leaves the audit trail."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from rest_framework.authtoken.models import Token

from access import services as access_services
from access.models import AccessRequest
from registry.models import Agent, Team
from registry.selectors.agents import agent_list
from tests.directory.test_scim import TOKEN, call, new_group, new_user
from tests.registry.factories import AgentFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

DEACTIVATE = {
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "replace", "value": {"active": False}}],
}


@pytest.fixture(autouse=True)
def scim_settings(settings):
    settings.SCIM_BEARER_TOKEN = TOKEN
    settings.OIDC_ROLE_GROUPS = [
        "security=gov-security",
        "auditor=gov-auditors",
        "engineer=gov-engineers",
    ]


@pytest.fixture
def dana(client, security):
    """dana, provisioned by SCIM as an engineer in team x, owns dana-bot and waits for
    github:merge on it (approval: pending)."""
    user_id = new_user(client, "dana")["id"]
    new_group(client, "gov-engineers", [user_id])
    new_group(client, "team-x", [user_id])
    user = User.objects.get(pk=user_id)
    demo_policy(security)
    agent = AgentFactory(slug="dana-bot", owner=user, team=Team.objects.get(slug="x"))
    request = access_services.access_request_submit(
        actor=user,
        agent=agent,
        capability=capability("github:merge"),
        justification="merge the release branch",
        duration_hours=2,
    )
    assert request.status == "pending"
    return {"user": user, "agent": agent, "request": request}


def trail_of(user: User, agent: Agent, request: AccessRequest) -> set[int]:
    """Every trail entry by the person or about them, their agent and their request."""
    about = Q()
    for obj in (user, agent, request):
        about |= Q(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk))
    return set(LogEntry.objects.filter(about | Q(actor=user)).values_list("pk", flat=True))


def test_deactivation_by_scim_ends_everything_the_leaver_held_but_the_trail(client, security, dana):
    user, agent, request = dana["user"], dana["agent"], dana["request"]
    Token.objects.create(user=user)
    browser = type(client)()
    browser.force_login(user)
    assert browser.get("/").status_code == 200
    before = trail_of(user, agent, request)
    assert before

    response = call(client, "patch", f"Users/{user.pk}", DEACTIVATE)
    assert response.status_code == 200, response.content

    # The request is cancelled, saying why, by nobody: the leaver is the trail's source.
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert request.decision_comment == "Cancelled: dana left (deactivated)."
    # Token and session end at once.
    assert not Token.objects.filter(user=user).exists()
    assert browser.get("/").status_code == 302
    # The agent is orphaned: on the list filter and security's dashboard.
    assert [a.slug for a in agent_list(filters={"orphaned": "true"})] == ["dana-bot"]
    security_browser = type(client)()
    security_browser.force_login(security)
    listed = security_browser.get("/agents/?orphaned=true")
    assert [a.slug for a in listed.context["page"]] == ["dana-bot"]
    assert "orphaned: owner dana left" in listed.content.decode()
    panels = {p["key"]: p for p in security_browser.get("/").context["panels"]}
    assert panels["orphaned-agents"]["value"] == 1
    # Nothing of theirs left the trail; the deactivation and the cancellation were added.
    after = trail_of(user, agent, request)
    assert before < after
    sources = {
        (entry.additional_data or {}).get("source")
        for entry in LogEntry.objects.filter(pk__in=after - before)
    }
    assert {"IdP (SCIM)", "Leaver: dana deactivated"} <= sources
    filed = LogEntry.objects.filter(pk__in=before, actor=user)
    assert filed.exists()  # what dana did is still dana's


def test_deletion_by_scim_is_the_same_leaver_path(client, dana):
    user, request = dana["user"], dana["request"]
    assert call(client, "delete", f"Users/{user.pk}").status_code == 204
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert User.objects.filter(pk=user.pk, is_active=False).exists()  # the row stays
    assert [a.slug for a in agent_list(filters={"orphaned": "true"})] == ["dana-bot"]


def test_security_reassigns_the_orphan_and_reactivation_cancels_nothing_more(
    client, api, security, engineer, dana
):
    user, agent = dana["user"], dana["agent"]
    assert call(client, "patch", f"Users/{user.pk}", DEACTIVATE).status_code == 200
    Team.objects.get(slug="x").members.add(engineer)
    response = api.as_user(security).post(
        f"/api/v1/agents/{agent.slug}/reassign/", {"owner": "eve"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert list(agent_list(filters={"orphaned": "true"})) == []
    reactivate = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": True}}],
    }
    assert call(client, "patch", f"Users/{user.pk}", reactivate).status_code == 200
    assert User.objects.get(pk=user.pk).is_active
    assert AccessRequest.objects.get(pk=dana["request"].pk).status == "cancelled"
