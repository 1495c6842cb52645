"""Effective access: every capability, the decision the agent would get now, why, until when."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from decisions.api.effective import AgentEffectiveOut, effective_body, effective_json
from decisions.effective import effective_access
from decisions.models import Decision
from decisions.services.engine import evaluate
from registry.models import Capability
from tests.decisions.fixtures import make_exception, make_grant
from tests.registry.factories import (
    AgentFactory,
    TeamFactory,
    capability,
    demo_policy,
    publish_policy,
)

pytestmark = pytest.mark.django_db
URL = "/api/v1/agents/{}/effective/"


@pytest.fixture
def world(engineer, security):
    for key in ("github:read", "github:write", "github:merge", "jira:write", "deploy:release"):
        capability(key, high_risk=key in ("github:merge", "deploy:release"))
    demo_policy(security)
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="prod-bot", tier="production", owner=engineer, team=team)
    grants = {
        "merge": make_grant(agent, "github:merge", hours=2),
        "write": make_grant(agent, "github:write", scope="acme/*", hours=5),
    }
    exception = make_exception(agent, "deploy:release", days=3)
    return {"agent": agent, "grants": grants, "exception": exception}


def by_capability(body):
    return {row["capability"]: row for row in body["capabilities"]}


def test_every_capability_is_decided_as_now_with_until_when(api, security, world):
    body = api.as_user(security).get(URL.format("prod-bot")).json()
    rows = by_capability(body)
    assert sorted(rows) == [
        "deploy:release",
        "github:merge",
        "github:read",
        "github:write",
        "jira:write",
        "vault:read_secret",  # demo_policy creates it
    ]
    for key, row in rows.items():
        single = evaluate(agent_slug="prod-bot", capability_key=key)
        assert (row["decision"], row["reason"]) == (single.decision, single.reason)
    merge, release = rows["github:merge"], rows["deploy:release"]
    assert (merge["decision"], merge["grant"]) == ("allow", world["grants"]["merge"].pk)
    assert merge["until"] == world["grants"]["merge"].expires_at.isoformat().replace("+00:00", "Z")
    assert (release["decision"], release["exception"]) == ("allow", world["exception"].pk)
    assert release["until"].startswith(f"{world['exception'].expires_at:%Y-%m-%dT%H:%M}")
    # A scoped grant does not answer an unscoped question; it is listed with its scope.
    write = rows["github:write"]
    assert write["decision"] == "deny"
    assert [(s["grant"], s["scope"]) for s in write["scoped"]] == [
        (world["grants"]["write"].pk, "acme/*")
    ]
    assert Decision.objects.count() == 0  # a view, not a decision anyone acted on


def test_a_revoked_grant_no_longer_allows(api, security, world):
    grant = world["grants"]["merge"]
    grant.revoked_at = timezone.now() - timedelta(seconds=1)
    grant.save(update_fields=["revoked_at"])
    rows = by_capability(api.as_user(security).get(URL.format("prod-bot")).json())
    assert (rows["github:merge"]["decision"], rows["github:merge"]["until"]) == ("deny", None)


def test_one_query_for_the_facts_whatever_the_catalogue(api, security, world):
    client = api.as_user(security)
    client.get(URL.format("prod-bot"))
    with CaptureQueriesContext(connection) as few:
        client.get(URL.format("prod-bot"))
    for n in range(30):
        make_grant(world["agent"], f"tool{n}:act", hours=1)
    with CaptureQueriesContext(connection) as many:
        body = client.get(URL.format("prod-bot")).json()
    assert len(body["capabilities"]) == 36
    assert len(many) == len(few)


def test_the_answer_is_the_serializers_to_the_letter(world):
    """The endpoint builds its JSON directly (500 rows through nested serializers cost more
    than deciding them); AgentEffectiveOut stays its schema and says what it must be."""
    now = timezone.now()
    rows = effective_access("prod-bot", at=now)
    assert any(row.until for row in rows)
    assert any(row.scoped for row in rows)
    expected = AgentEffectiveOut({"agent": "prod-bot", "at": now, "capabilities": rows}).data
    assert effective_json("prod-bot", now, rows) == json.loads(json.dumps(expected))


def test_a_token_caller_and_a_session_get_the_same_document(api, client, security, world):
    """A token GET takes the fast path (its JSON written directly, rows that hold nothing
    encoded once); a signed-in browser goes through DRF. The same document either way."""
    by_token = api.as_user(security).get(URL.format("prod-bot"))
    client.force_login(security)
    by_session = client.get(URL.format("prod-bot"), HTTP_ACCEPT="application/json")
    assert by_token["Content-Type"] == by_session["Content-Type"] == "application/json"
    fast, drf = by_token.json(), by_session.json()
    assert fast.pop("at")
    assert drf.pop("at")
    assert fast == drf
    now = timezone.now()
    rows = effective_access("prod-bot", at=now)
    assert json.loads(effective_body("prod-bot", now, rows)) == effective_json(
        "prod-bot", now, rows
    )


def test_the_schema_still_documents_the_endpoint(api, security):
    schema = api.as_user(security).get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/agents/{slug}/effective/"]["get"]
    assert "AgentEffectiveOut" in json.dumps(operation["responses"]["200"])


def test_a_capability_added_or_re_rated_shows_at_once(api, security, world):
    client = api.as_user(security)
    before = by_capability(client.get(URL.format("prod-bot")).json())
    assert "slack:post" not in before
    assert before["github:read"]["high_risk"] is False
    capability("slack:post")
    Capability.objects.filter(key="github:read").update(high_risk=True)
    after = by_capability(client.get(URL.format("prod-bot")).json())
    assert after["slack:post"]["decision"] == "deny"
    assert after["github:read"]["high_risk"] is True
    assert list(after) == sorted(after)  # still in catalogue order


def test_a_newly_published_rule_shows_at_once(api, security, world):
    client = api.as_user(security)
    before = by_capability(client.get(URL.format("prod-bot")).json())
    assert before["github:read"]["decision"] == "deny"  # jit in the demo policy, no grant
    publish_policy({"production": {"github:read": ("allow", None)}}, security)
    after = by_capability(client.get(URL.format("prod-bot")).json())
    assert (after["github:read"]["decision"], after["github:read"]["reason"]) == (
        "allow",
        evaluate(agent_slug="prod-bot", capability_key="github:read").reason,
    )
    assert after["github:read"]["reason"] == "Standing allow: production github:read in policy v2."


def test_an_agent_of_another_tier_gets_its_tiers_answers(api, security, world, engineer):
    client = api.as_user(security)
    client.get(URL.format("prod-bot"))  # the production answers, decided once
    AgentFactory(slug="sandbox-bot", tier="sandbox", owner=engineer)
    rows = by_capability(client.get(URL.format("sandbox-bot")).json())
    for key, row in rows.items():
        single = evaluate(agent_slug="sandbox-bot", capability_key=key)
        assert (row["decision"], row["reason"]) == (single.decision, single.reason)


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("engineer", 200),  # the owner
        ("other_engineer", 403),
        ("security", 200),
        ("auditor", 200),
        ("gateway", 200),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_who_reads_an_agents_effective_access(api, role_users, other_engineer, world, role, status):
    user = {"other_engineer": other_engineer, "anonymous": None}.get(role, role_users.get(role))
    assert api.as_user(user).get(URL.format("prod-bot")).status_code == status


def test_an_unknown_agent_is_a_404(api, security, world):
    response = api.as_user(security).get(URL.format("ghost-bot"))
    assert response.status_code == 404
    assert response.json()["detail"] == "No agent with slug 'ghost-bot'."


def test_the_agent_page_shows_the_table_to_those_who_may_read_it(
    client, engineer, other_engineer, world
):
    client.force_login(engineer)
    page = client.get("/agents/prod-bot/").content.decode()
    assert 'aria-label="Effective access"' in page
    assert 'data-capability="github:merge"' in page
    client.force_login(other_engineer)
    assert 'aria-label="Effective access"' not in client.get("/agents/prod-bot/").content.decode()
