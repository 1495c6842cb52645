from urllib.parse import quote

import pytest

from decisions.models import Decision
from decisions.services.log import decide_and_record
from tests.decisions.fixtures import make_grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("gateway", 200),
        ("security", 200),
        ("engineer", 403),
        ("auditor", 403),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_who_may_ask_for_decisions(api, role_users, world, role, status):
    client = api.as_user(None if role == "anonymous" else role_users[role])
    response = client.post(
        "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
    )
    assert response.status_code == status
    assert Decision.objects.count() == (1 if status == 200 else 0)
    if status != 200:
        assert response.json()["detail"]


def test_decision_answer_names_reason_version_and_grant(api, gateway, world):
    grant = make_grant(world, "github:read")
    body = (
        api.as_user(gateway)
        .post(
            "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
        )
        .json()
    )
    assert body["decision"] == "allow"
    assert body["policy_version"] == 1
    assert body["grant"] == grant.pk
    assert body["exception"] is None
    assert "Active grant" in body["reason"]
    assert Decision.objects.get(pk=body["decision_id"]).caller == gateway


def test_unknown_agent_and_capability_are_answered_deny_not_error(api, gateway, world):
    client = api.as_user(gateway)
    ghost = client.post(
        "/api/v1/decisions/", {"agent": "ghost", "capability": "github:read"}, format="json"
    )
    assert ghost.status_code == 200
    assert ghost.json()["decision"] == "deny"
    odd = client.post(
        "/api/v1/decisions/", {"agent": "pay-bot", "capability": "x:y"}, format="json"
    )
    assert odd.json()["decision"] == "deny"
    assert "Unknown capability 'x:y'" in odd.json()["reason"]
    assert Decision.objects.count() == 2  # denials are evidence too


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "agent: This field is required"),
        ({"agent": "pay-bot"}, "capability: This field is required"),
        ({"agent": ["pay-bot"], "capability": "github:read"}, "agent: Not a valid string"),
        ({"agent": "pay-bot", "capability": "github:read", "scope": "x" * 501}, "scope"),
        ("not json object", "JSON object"),
    ],
)
def test_malformed_decision_requests_are_400(api, gateway, world, body, message):
    response = api.as_user(gateway).post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert Decision.objects.count() == 0


def test_broken_json_is_400(api, gateway, world):
    response = api.as_user(gateway).post(
        "/api/v1/decisions/", data="{agent:", content_type="application/json"
    )
    assert response.status_code == 400


def test_decision_endpoint_query_count(api, gateway, world, django_assert_num_queries):
    client = api.as_user(gateway)
    body = {"agent": "pay-bot", "capability": "github:read"}
    client.post("/api/v1/decisions/", body, format="json")
    # who asks and the decision's facts in one query, then the record
    with django_assert_num_queries(2):
        client.post("/api/v1/decisions/", body, format="json")


@pytest.mark.parametrize(
    ("role", "status"),
    [("security", 200), ("auditor", 200), ("engineer", 403), ("gateway", 403)],
)
def test_decision_log_is_evidence_for_security_and_auditors(api, role_users, world, role, status):
    api.as_user(role_users["security"]).post(
        "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
    )
    response = api.as_user(role_users[role]).get("/api/v1/decisions/?agent=pay-bot")
    assert response.status_code == status
    if status == 200:
        [entry] = response.json()["results"]
        assert (entry["agent"], entry["decision"], entry["caller"]) == ("pay-bot", "deny", "sec1")


def test_decision_log_list_query_count(api, auditor, gateway, world, django_assert_num_queries):
    for _ in range(3):
        api.as_user(gateway).post(
            "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
        )
    client = api.as_user(auditor)
    with django_assert_num_queries(3):
        client.get("/api/v1/decisions/")
    for _ in range(30):
        api.as_user(gateway).post(
            "/api/v1/decisions/", {"agent": "pay-bot", "capability": "jira:write"}, format="json"
        )
    client = api.as_user(auditor)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/decisions/").json()["count"] == 33


def test_session_callers_take_the_drf_path_with_the_same_answer(client, security, world):
    client.force_login(security)
    response = client.post(
        "/api/v1/decisions/",
        {"agent": "pay-bot", "capability": "github:read"},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["decision"] == "deny"
    assert Decision.objects.get().caller == security


def test_bad_or_inactive_tokens_are_401(api, gateway, world):
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    body = {"agent": "pay-bot", "capability": "github:read"}
    response = api.post("/api/v1/decisions/", body, format="json")
    assert (response.status_code, response.json()["detail"]) == (401, "Invalid token.")
    client = api.as_user(gateway)
    gateway.is_active = False
    gateway.save()
    assert client.post("/api/v1/decisions/", body, format="json").status_code == 401
    assert Decision.objects.count() == 0


def test_a_decision_request_must_be_json(api, gateway, world):
    response = api.as_user(gateway).post(
        "/api/v1/decisions/",
        "agent=pay-bot&capability=github:read",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]


@pytest.mark.parametrize(("role", "status"), [("engineer", 403), ("auditor", 403)])
def test_wrong_role_with_a_bad_body_hears_403_not_400(api, role_users, world, role, status):
    response = api.as_user(role_users[role]).post("/api/v1/decisions/", {}, format="json")
    assert response.status_code == status


def test_bad_token_with_a_bad_body_hears_401(api, world):
    api.credentials(HTTP_AUTHORIZATION="Token nope")
    assert api.post("/api/v1/decisions/", {}, format="json").status_code == 401


def test_the_log_narrows_to_what_one_workload_asked_on_the_api_and_the_page(
    api, client, auditor, gateway, world
):
    """An agent that asked as itself (MCP, token exchange) is named by its workload; the log
    lists what that workload asked, and the page links each workload to that list."""
    main = "github-actions: repo:acme/pay:ref:refs/heads/main"
    fork = "github-actions: repo:acme/pay:ref:refs/heads/fork"
    for workload, key in ((main, "github:read"), (main, "jira:write"), (fork, "github:read")):
        decide_and_record(agent_slug="pay-bot", capability_key=key, workload=workload)
    api.as_user(gateway).post(
        "/api/v1/decisions/", {"agent": "pay-bot", "capability": "github:read"}, format="json"
    )

    listed = api.as_user(auditor).get("/api/v1/decisions/", {"workload": main}).json()
    assert sorted(row["capability"] for row in listed["results"]) == ["github:read", "jira:write"]
    assert {row["caller_workload"] for row in listed["results"]} == {main}
    too_long = api.as_user(auditor).get("/api/v1/decisions/", {"workload": "x" * 601})
    assert too_long.status_code == 400
    assert "at most 600 characters" in too_long.json()["errors"]["workload"][0]

    client.force_login(auditor)
    page = client.get("/decisions/").content.decode()
    assert page.count(f"?workload={quote(main, safe='')}") == 2
    narrowed = client.get("/decisions/", {"workload": fork}).content.decode()
    assert "1 decision matches these filters" in narrowed
    assert f"<code>{fork}</code>" in narrowed
    assert main not in narrowed


def test_a_session_caller_s_form_body_is_refused_as_the_gateway_s_is(client, security, world):
    """JSON only, on either path: a form's repeated key would be read as its last value."""
    client.force_login(security)
    response = client.post(
        "/api/v1/decisions/",
        "agent=pay-bot&capability=github:read&agent=other-bot",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 415
    assert not Decision.objects.exists()
