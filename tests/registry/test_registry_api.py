import pytest

from registry.models import Agent, Capability, PolicyVersion, Team, Tool
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

ROLES = ["engineer", "security", "auditor", "gateway", "norole", "anonymous"]


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    demo_policy(security)
    return {"team": team, "agent": agent}


def client_for(api, role_users, role):
    return api.as_user(None if role == "anonymous" else role_users[role])


def new_agent_body(**overrides):
    return {
        "slug": "new-bot",
        "name": "New bot",
        "team": "payments",
        "tier": "sandbox",
        "workload_identity": "spiffe://acme/new-bot",
        "repositories": ["acme/new"],
        **overrides,
    }


# endpoint -> expected status per role. Reads: every human role and the gateway.
READS = [
    "/api/v1/agents/",
    "/api/v1/agents/pay-bot/",
    "/api/v1/teams/",
    "/api/v1/tools/",
    "/api/v1/tools/github/",
    "/api/v1/capabilities/github:merge/",
    "/api/v1/policy/",
    "/api/v1/policy/versions/",
    "/api/v1/policy/versions/1/",
]
READ_STATUS = {
    "engineer": 200,
    "security": 200,
    "auditor": 200,
    "gateway": 200,
    "norole": 403,
    "anonymous": 401,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", READS)
def test_read_matrix(api, role_users, world, role, url):
    response = client_for(api, role_users, role).get(url)
    assert response.status_code == READ_STATUS[role], response.content
    assert "detail" not in response.json() or response.status_code != 200


WRITES = {
    # name: (method, url, body, allowed roles -> status)
    "register agent": (
        "post",
        "/api/v1/agents/",
        new_agent_body(),
        {"engineer": 201, "security": 201},
    ),
    "edit agent": (
        "patch",
        "/api/v1/agents/pay-bot/",
        {"description": "edited"},
        {"engineer": 200, "security": 200},
    ),
    "attest": ("post", "/api/v1/agents/pay-bot/attest/", {}, {"engineer": 200}),
    "suspend": (
        "post",
        "/api/v1/agents/pay-bot/suspend/",
        {"reason": "Leaked a token."},
        {"security": 200},
    ),
    "create team": (
        "post",
        "/api/v1/teams/",
        {"slug": "new-team", "name": "New"},
        {"security": 201},
    ),
    "create tool": (
        "post",
        "/api/v1/tools/",
        {"slug": "slack", "name": "Slack", "category": "internal_api"},
        {"security": 201},
    ),
    "edit tool": (
        "patch",
        "/api/v1/tools/github/",
        {"name": "GitHub Enterprise"},
        {"security": 200},
    ),
    "add capability": (
        "post",
        "/api/v1/capabilities/",
        {"tool": "github", "action": "admin", "high_risk": True},
        {"security": 201},
    ),
    "open draft": ("post", "/api/v1/policy/versions/", {"notes": "x"}, {"security": 201}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(WRITES))
def test_write_matrix(api, role_users, world, role, name):
    method, url, body, allowed = WRITES[name]
    before = _snapshot()
    response = getattr(client_for(api, role_users, role), method)(url, body, format="json")
    expected = allowed.get(role, 401 if role == "anonymous" else 403)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["detail"]
        assert _snapshot() == before


def _snapshot():
    return (
        list(Agent.objects.values_list("slug", "description", "status", "last_attested_at")),
        Team.objects.count(),
        list(Tool.objects.values_list("slug", "name")),
        Capability.objects.count(),
        PolicyVersion.objects.count(),
    )


def test_agent_response_shape(api, engineer, world):
    body = api.as_user(engineer).get("/api/v1/agents/pay-bot/").json()
    assert body["owner"] == "eve"
    assert body["team"] == "payments"
    assert body["tier"] == "production"
    assert body["status"] == "active"
    assert body["last_attested_at"]
    assert body["attestation_stale"] is False


def test_register_defaults_owner_to_the_caller(api, engineer, world):
    response = api.as_user(engineer).post("/api/v1/agents/", new_agent_body(), format="json")
    assert response.status_code == 201
    assert response.json()["owner"] == "eve"
    assert Agent.objects.get(slug="new-bot").owner == engineer


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (new_agent_body(team="nowhere"), "team", "No team with slug 'nowhere'"),
        (new_agent_body(tier="galaxy"), "tier", "not a valid choice"),
        (new_agent_body(slug="pay-bot"), "slug", "already exists"),
        (
            new_agent_body(workload_identity="spiffe://test.example/agents/pay-bot"),
            "workload_identity",
            "already exists",
        ),
        (new_agent_body(repositories="acme/new"), "repositories", "list"),
        ({"slug": "x"}, "name", "required"),
        (new_agent_body(owner="ghost"), "owner", "No active user 'ghost'"),
    ],
)
def test_bad_agent_input_is_a_400_naming_the_field(api, engineer, world, body, field, message):
    count = Agent.objects.count()
    response = api.as_user(engineer).post("/api/v1/agents/", body, format="json")
    assert response.status_code == 400, response.content
    payload = response.json()
    assert field in payload["errors"]
    assert message in payload["detail"]
    assert Agent.objects.count() == count


def test_non_object_body_is_a_400(api, engineer, world):
    response = api.as_user(engineer).post("/api/v1/agents/", ["not", "an", "object"], format="json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


def test_other_engineer_cannot_edit_and_nothing_changes(api, other_engineer, world):
    response = api.as_user(other_engineer).patch(
        "/api/v1/agents/pay-bot/", {"description": "mine now"}, format="json"
    )
    assert response.status_code == 403
    assert "owner" in response.json()["detail"]
    assert Agent.objects.get(slug="pay-bot").description == ""


def test_unknown_agent_is_a_404_with_a_message(api, engineer, world):
    response = api.as_user(engineer).get("/api/v1/agents/ghost/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No agent with slug 'ghost'."


def test_unknown_api_address_is_a_json_404(api, engineer):
    response = api.as_user(engineer).get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert "No API endpoint" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("tier=production", ["pay-bot"]),
        ("tier=sandbox", ["docs"]),
        ("team=platform", ["ci"]),
        ("owner=oscar", ["ci"]),
        ("status=suspended", ["ci"]),
        ("search=DOCUMENT", ["docs"]),
        ("", ["ci", "docs", "pay-bot"]),
    ],
)
def test_agent_list_filters(api, engineer, other_engineer, world, query, expected):
    AgentFactory(slug="docs", owner=engineer, team=world["team"], description="Documentation")
    AgentFactory(
        slug="ci",
        owner=other_engineer,
        team=TeamFactory(slug="platform"),
        tier="internal",
        status="suspended",
    )
    body = api.as_user(engineer).get(f"/api/v1/agents/?{query}").json()
    assert [agent["slug"] for agent in body["results"]] == expected
    assert body["count"] == len(expected)


def test_invalid_filter_value_is_a_400(api, engineer, world):
    response = api.as_user(engineer).get("/api/v1/agents/?tier=galaxy")
    assert response.status_code == 400
    assert "tier" in response.json()["errors"]


def test_agent_list_query_count_is_constant(api, engineer, world, django_assert_num_queries):
    client = api.as_user(engineer)
    client.get("/api/v1/agents/")  # warm the token and role lookups' code paths
    with django_assert_num_queries(3):  # token with roles, count, page
        assert len(client.get("/api/v1/agents/").json()["results"]) == 1
    AgentFactory.create_batch(49, team=world["team"])
    with django_assert_num_queries(3):
        assert len(client.get("/api/v1/agents/").json()["results"]) == 50


def test_tools_list_includes_capabilities_in_constant_queries(
    api, engineer, world, django_assert_num_queries
):
    client = api.as_user(engineer)
    with django_assert_num_queries(4):  # token with roles, count, tools, capabilities
        tools = client.get("/api/v1/tools/").json()["results"]
    github = next(t for t in tools if t["slug"] == "github")
    assert {c["key"]: c["high_risk"] for c in github["capabilities"]} == {
        "github:merge": True,
        "github:read": False,
        "github:write": False,
    }


def test_policy_endpoint_returns_the_published_rules(api, gateway, world):
    body = api.as_user(gateway).get("/api/v1/policy/").json()
    assert body["number"] == 1
    rules = {
        (r["tier"], r["capability"]): (r["effect"], r["max_duration_hours"]) for r in body["rules"]
    }
    assert len(rules) == 18
    assert rules[("production", "deploy:release")] == ("approval", 2)
    assert rules[("sandbox", "github:read")] == ("allow", None)


def test_policy_draft_edit_publish_and_diff_through_the_api(api, security, world):
    client = api.as_user(security)
    draft = client.post("/api/v1/policy/versions/", {"notes": "lock sandbox"}, format="json")
    assert draft.status_code == 201
    assert draft.json()["number"] == 2
    rule = {
        "tier": "sandbox",
        "capability": "deploy:release",
        "effect": "approval",
        "max_duration_hours": 1,
    }
    assert client.put("/api/v1/policy/versions/2/rules/", rule, format="json").status_code == 200
    removed = client.delete("/api/v1/policy/versions/2/rules/?tier=sandbox&capability=jira:write")
    assert removed.status_code == 200
    # The draft is not in force until published.
    assert client.get("/api/v1/policy/").json()["number"] == 1
    # deny -> approval loosens sandbox, and with jira:write gone from sandbox production is
    # the easier tier for it: the publish needs a reason, and names both warnings.
    refused = client.post("/api/v1/policy/versions/2/publish/")
    assert refused.status_code == 400
    assert refused.json()["code"] == "reason_required"
    assert [w["message"] for w in refused.json()["warnings"]] == [
        "sandbox deploy:release loosens from deny to approval ≤ 1h.",
        "production jira:write (jit ≤ 24h) is less strict than sandbox (no rule, deny).",
    ]
    assert client.get("/api/v1/policy/").json()["number"] == 1
    reason = {"reason": "Release from sandbox with approval."}
    assert (
        client.post("/api/v1/policy/versions/2/publish/", reason, format="json").status_code == 200
    )
    current = client.get("/api/v1/policy/").json()
    assert (current["number"], current["publish_reason"]) == (2, reason["reason"])
    diff = client.get("/api/v1/policy/versions/2/diff/?against=1").json()
    assert diff["changes"] == [
        {
            "tier": "sandbox",
            "capability": "deploy:release",
            "change": "changed",
            "before": {"effect": "deny", "max_duration_hours": None},
            "after": {"effect": "approval", "max_duration_hours": 1},
        },
        {
            "tier": "sandbox",
            "capability": "jira:write",
            "change": "removed",
            "before": {"effect": "allow", "max_duration_hours": None},
            "after": None,
        },
    ]


def test_editing_a_published_version_is_a_400_and_changes_nothing(api, security, world):
    rule = {"tier": "sandbox", "capability": "github:read", "effect": "deny"}
    response = api.as_user(security).put("/api/v1/policy/versions/1/rules/", rule, format="json")
    assert response.status_code == 400
    assert "published and immutable" in response.json()["detail"]
    current = api.as_user(security).get("/api/v1/policy/").json()
    assert {
        "tier": "sandbox",
        "capability": "github:read",
        "effect": "allow",
        "max_duration_hours": None,
    } in current["rules"]


@pytest.mark.parametrize(
    ("rule", "status", "message"),
    [
        (
            {"tier": "sandbox", "capability": "github:nope", "effect": "deny"},
            400,
            "No capability 'github:nope'",
        ),
        ({"tier": "sandbox", "capability": "nocolon", "effect": "deny"}, 400, "tool:action"),
        (
            {"tier": "sandbox", "capability": "github:read", "effect": "jit"},
            400,
            "needs a maximum duration",
        ),
        ({"tier": "moon", "capability": "github:read", "effect": "deny"}, 400, "tier"),
        (
            {
                "tier": "sandbox",
                "capability": "github:read",
                "effect": "jit",
                "max_duration_hours": "eight",
            },
            400,
            "valid integer",
        ),
    ],
)
def test_bad_rule_input(api, security, world, rule, status, message):
    client = api.as_user(security)
    client.post("/api/v1/policy/versions/", {}, format="json")
    response = client.put("/api/v1/policy/versions/2/rules/", rule, format="json")
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_diff_needs_an_existing_other_version(api, engineer, world):
    client = api.as_user(engineer)
    assert client.get("/api/v1/policy/versions/1/diff/").status_code == 400
    missing = client.get("/api/v1/policy/versions/1/diff/?against=9")
    assert missing.status_code == 400
    assert "No policy version 9" in missing.json()["detail"]
    assert client.get("/api/v1/policy/versions/7/").status_code == 404


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/agents/"),
        ("patch", "/api/v1/agents/pay-bot/"),
        ("post", "/api/v1/teams/"),
        ("post", "/api/v1/tools/"),
        ("post", "/api/v1/capabilities/"),
        ("post", "/api/v1/policy/versions/"),
        ("put", "/api/v1/policy/versions/1/rules/"),
        ("post", "/api/v1/access-requests/"),
    ],
)
def test_wrong_role_is_403_even_with_a_bad_body(api, auditor, world, method, url):
    response = getattr(api.as_user(auditor), method)(url, {"nonsense": True}, format="json")
    assert response.status_code == 403
    assert response.json()["detail"]
