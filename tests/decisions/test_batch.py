"""Batch decisions: the same answers as single decisions, one read, one write, all or nothing."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from decisions.models import Decision
from decisions.services.engine import evaluate
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import AgentFactory, capability, demo_policy

pytestmark = pytest.mark.django_db
URL = "/api/v1/decisions/batch/"


@pytest.fixture
def world(engineer, security):
    for key in ("github:read", "github:write", "github:merge", "jira:write", "deploy:release"):
        capability(key, high_risk=key in ("github:merge", "deploy:release"))
    demo_policy(security)
    agents = {
        "prod": AgentFactory(slug="prod-bot", tier="production", owner=engineer),
        "sand": AgentFactory(slug="sand-bot", tier="sandbox", owner=engineer),
        "held": AgentFactory(slug="held-bot", tier="production", owner=engineer),
        "off": AgentFactory(slug="off-bot", tier="sandbox", status="suspended", owner=engineer),
    }
    make_grant(agents["prod"], "github:merge", scope="acme/*")
    make_grant(agents["sand"], "github:write")
    make_exception(agents["held"], "deploy:release")
    return agents


ASKS = [
    {"agent": "prod-bot", "capability": "github:merge", "scope": "acme/api"},
    {"agent": "prod-bot", "capability": "github:merge", "scope": "other/api"},
    {"agent": "prod-bot", "capability": "github:merge"},
    {"agent": "sand-bot", "capability": "github:read"},
    {"agent": "sand-bot", "capability": "github:write", "scope": "anything"},
    {"agent": "sand-bot", "capability": "deploy:release"},
    {"agent": "held-bot", "capability": "deploy:release"},
    {"agent": "off-bot", "capability": "github:read"},
    {"agent": "ghost-bot", "capability": "github:read"},
    {"agent": "prod-bot", "capability": "slack:post"},
]


def post(client, body):
    return client.post(URL, body, format="json")


def test_each_answer_equals_the_single_decision_in_request_order(api, gateway, world):
    expected = [
        evaluate(agent_slug=a["agent"], capability_key=a["capability"], scope=a.get("scope", ""))
        for a in ASKS
    ]
    response = post(api.as_user(gateway), {"requests": ASKS})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["decision"], r["reason"], r["grant"], r["exception"]) for r in results] == [
        (e.decision, e.reason, e.grant_id, e.exception_id) for e in expected
    ]
    assert [r["decision"] for r in results] == [
        "allow", "deny", "deny", "allow", "allow", "deny", "allow", "deny", "deny", "deny",
    ]  # fmt: skip
    logged = Decision.objects.in_bulk([r["decision_id"] for r in results])
    assert [
        (logged[r["decision_id"]].agent_slug, logged[r["decision_id"]].scope) for r in results
    ] == [(a["agent"], a.get("scope", "")) for a in ASKS]
    assert {d.caller_id for d in logged.values()} == {gateway.pk}


def test_one_read_and_one_write_whatever_the_batch_size(api, gateway, world):
    client = api.as_user(gateway)
    post(client, {"requests": ASKS})  # warm the policy snapshot
    with CaptureQueriesContext(connection) as few:
        post(client, {"requests": ASKS})
    with CaptureQueriesContext(connection) as many:
        assert post(client, {"requests": ASKS * 50}).status_code == 200
    assert len(many) == len(few)
    inserts = [q for q in many.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert len(inserts) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"requests": [ASKS[0], {"agent": "prod-bot"}]}, "requests[1]: capability: This field"),
        (
            {"requests": [ASKS[0], ASKS[1], {"agent": "", "capability": "x:y"}]},
            "requests[2]: agent",
        ),
        ({"requests": [ASKS[0], "github:read"]}, "requests[1]: The request body must be"),
        ({"requests": [{**ASKS[0], "scopes": "x"}]}, "requests[0]: Unknown field 'scopes'"),
        ({"requests": []}, "requests: a list of 1 to 1000"),
        ({"requests": [ASKS[0]] * 1001}, "requests: a list of 1 to 1000"),
        ({"asks": [ASKS[0]]}, "Unknown field 'asks'"),
        ([ASKS[0]], "The request body must be a JSON object."),
    ],
)
def test_a_bad_item_is_a_400_naming_it_and_nothing_is_recorded(api, gateway, world, body, message):
    response = post(api.as_user(gateway), body)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    assert Decision.objects.count() == 0


def test_a_bad_item_names_its_index(api, gateway, world):
    body = {"requests": [ASKS[0], ASKS[1], {"agent": "x"}]}
    assert post(api.as_user(gateway), body).json()["index"] == 2


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
def test_gateways_and_security_ask(api, role_users, world, role, status):
    client = api.as_user(None if role == "anonymous" else role_users[role])
    assert post(client, {"requests": ASKS[:2]}).status_code == status
    assert Decision.objects.count() == (2 if status == 200 else 0)


def test_a_raw_json_body_with_a_token_works_like_the_single_endpoint(client, gateway, world):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=gateway)
    response = client.post(
        URL,
        json.dumps({"requests": ASKS[:3]}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {token.key}",
    )
    assert response.status_code == 200
    assert [r["decision"] for r in response.json()["results"]] == ["allow", "deny", "deny"]
