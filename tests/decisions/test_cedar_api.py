"""The Cedar endpoints: who reads them, what they answer, and a gateway deciding with them."""

from datetime import UTC, datetime

import cedarpy
import pytest

from decisions.cedar import cedar_request
from decisions.services.engine import evaluate
from registry.services import policy as policy_services
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

POLICY = "/api/v1/policy/versions/{}/cedar/"
ENTITIES = "/api/v1/agents/{}/cedar-entities/"


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")


def _client(api, role_users, role):
    return api.as_user(None if role == "anonymous" else role_users[role])


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("engineer", 200),
        ("security", 200),
        ("auditor", 200),
        ("gateway", 200),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_the_policy_as_cedar(api, role_users, world, role, status):
    response = _client(api, role_users, role).get(POLICY.format(1))
    assert response.status_code == status
    if status == 200:
        assert set(response.json()) == {"version", "status", "schema", "policies"}
    else:
        assert response.json()["detail"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("engineer", 200),  # the agent's owner
        ("other_engineer", 403),  # grants and exceptions are their owners' and security's
        ("security", 200),
        ("auditor", 200),
        ("gateway", 200),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_an_agents_entities(api, role_users, other_engineer, world, role, status):
    users = {**role_users, "other_engineer": other_engineer}
    make_grant(world, "github:read")
    response = _client(api, users, role).get(ENTITIES.format("pay-bot"))
    assert response.status_code == status
    if status == 200:
        body = response.json()
        assert set(body) == {"agent", "generated_at", "entities"}
        assert [e["uid"]["type"] for e in body["entities"]] == ["Agent", "Grant"]
    else:
        assert response.json()["detail"]


def test_a_team_member_reads_the_entities_of_the_teams_agent(api, other_engineer, world):
    world.team.members.add(other_engineer)
    assert api.as_user(other_engineer).get(ENTITIES.format("pay-bot")).status_code == 200


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        (POLICY.format(99), "No policy version 99."),
        (ENTITIES.format("ghost"), "No agent with slug 'ghost'."),
        ("/api/v1/policy/versions/v1/cedar/", None),
        ("/api/v1/agents/pay.bot/cedar-entities/", None),
    ],
)
def test_unknown_versions_and_agents_are_json_404s(api, security, world, path, detail):
    response = api.as_user(security).get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"] == (detail or f"No API endpoint at {path}. See /api/docs/.")


def test_writing_is_refused(api, security, world):
    client = api.as_user(security)
    assert client.post(POLICY.format(1), {}, format="json").status_code == 405
    assert client.delete(ENTITIES.format("pay-bot")).status_code == 405


def test_a_draft_exports_with_its_status_and_its_rules(api, security, world):
    draft = policy_services.policy_draft_create(actor=security, notes="try at the edge")
    policy_services.policy_rule_set(
        actor=security,
        version=draft,
        tier="production",
        capability=capability("vault:read_secret"),
        effect="jit",
        max_duration_hours=1,
    )
    body = api.as_user(security).get(POLICY.format(draft.number)).json()
    assert (body["version"], body["status"]) == (2, "draft")
    assert body["policies"].startswith("// Agent Governance Portal policy v2 (draft)")
    assert '@id("production vault:read_secret jit")' in body["policies"]
    published = api.as_user(security).get(POLICY.format(1)).json()
    assert published["status"] == "published"
    assert "// production vault:read_secret: deny" in published["policies"]


def test_the_schema_lists_every_capability_and_validates_the_policies(api, gateway, world):
    body = api.as_user(gateway).get(POLICY.format(1)).json()
    assert sorted(body["schema"][""]["actions"]) == [
        "deploy:release",
        "github:merge",
        "github:read",
        "github:write",
        "jira:write",
        "vault:read_secret",
    ]
    assert set(body["schema"][""]["entityTypes"]) == {"Agent", "Grant", "Exception", "Scope"}
    assert cedarpy.validate_policies(body["policies"], body["schema"]).validation_passed


def test_a_gateway_decides_locally_as_the_portal_does(api, gateway, world):
    """Fetch the published policy and the agent's entities once; decide several actions."""
    grant = make_grant(world, "github:write", scope="acme/*")
    make_exception(world, "vault:read_secret")
    make_grant(AgentFactory(slug="other-bot", tier="production"), "github:merge")
    client = api.as_user(gateway)
    export = client.get(POLICY.format(1)).json()
    body = client.get(ENTITIES.format("pay-bot")).json()
    assert body["agent"] == "pay-bot"
    assert {e["uid"]["id"] for e in body["entities"] if e["uid"]["type"] == "Grant"} == {
        str(grant.pk)
    }
    now = datetime.now(UTC)
    asked = [
        ("github:write", "acme/payments-api", True),  # the grant covers it
        ("github:write", "other/payments-api", False),  # it does not
        ("github:merge", "acme/payments-api", False),  # approval rule, no grant of its own
        ("vault:read_secret", "", True),  # denied by rule, allowed by the exception
        ("deploy:release", "", False),
    ]
    for key, scope, allowed in asked:
        request, entities = cedar_request(
            body["entities"], agent="pay-bot", capability=key, scope=scope, now=now
        )
        answer = cedarpy.is_authorized(request, export["policies"], entities, export["schema"])
        ours = evaluate(agent_slug="pay-bot", capability_key=key, scope=scope, at=now)
        assert (answer.allowed, ours.allowed) == (allowed, allowed), key


@pytest.mark.parametrize("grants", [1, 20])
def test_the_entities_take_the_same_queries_however_many_grants(
    api, gateway, world, django_assert_num_queries, grants
):
    for _ in range(grants):
        make_grant(world, "github:read")
        make_exception(world, "github:merge")
    client = api.as_user(gateway)
    # the caller (token, user and groups), the agent, its grants, its exceptions
    with django_assert_num_queries(4):
        response = client.get(ENTITIES.format("pay-bot"))
    assert len(response.json()["entities"]) == 1 + 2 * grants
