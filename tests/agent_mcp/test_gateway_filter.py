"""The README's gateway example: a downstream server's tools/list narrowed to what the portal
allows, with one batch decision for the whole list (examples/mcp_tool_filter.py)."""

import pytest
from rest_framework.authtoken.models import Token

from decisions.models import Decision
from examples.mcp_tool_filter import allowed_tools
from tests.decisions.fixtures import make_grant
from tests.registry.factories import AgentFactory, capability, demo_policy

pytestmark = pytest.mark.django_db(transaction=True)

# A downstream MCP server's tools/list result (the fields a gateway passes through).
DOWNSTREAM = [
    {"name": "github__read", "description": "Read a file", "inputSchema": {"type": "object"}},
    {"name": "github__write", "description": "Push a commit", "inputSchema": {"type": "object"}},
    {"name": "github__merge", "description": "Merge a PR", "inputSchema": {"type": "object"}},
    {"name": "deploy__release", "description": "Release", "inputSchema": {"type": "object"}},
    {"name": "slack__post", "description": "Post a message", "inputSchema": {"type": "object"}},
]


@pytest.fixture
def world(engineer, security, gateway):
    for key in ("github:read", "github:write", "github:merge", "jira:write", "deploy:release"):
        capability(key, high_risk=key in ("github:merge", "deploy:release"))
    demo_policy(security)
    agent = AgentFactory(slug="prod-bot", tier="production", owner=engineer)
    make_grant(agent, "github:merge", scope="acme/*")
    return {"token": Token.objects.create(user=gateway).key}


def test_the_agent_sees_only_what_the_portal_allows_after_one_batch(live_server, world):
    shown = allowed_tools(
        DOWNSTREAM, agent="prod-bot", portal=live_server.url, token=world["token"], scope="acme/api"
    )
    # production: github:read is jit (no grant), merge has a grant covering acme/*, release is
    # approval without a grant, slack:post is not in the catalogue.
    assert [tool["name"] for tool in shown] == ["github__merge"]
    assert shown[0] is DOWNSTREAM[2]  # passed through unchanged
    logged = list(Decision.objects.order_by("id").values_list("capability_key", "scope"))
    assert logged == [(tool["name"].replace("__", ":"), "acme/api") for tool in DOWNSTREAM]


def test_outside_the_scope_of_its_grant_the_tool_is_hidden(live_server, world):
    shown = allowed_tools(
        DOWNSTREAM, agent="prod-bot", portal=live_server.url, token=world["token"], scope="other/x"
    )
    assert shown == []


def test_no_answer_from_the_portal_shows_no_tools(world):
    shown = allowed_tools(
        DOWNSTREAM, agent="prod-bot", portal="http://127.0.0.1:9", token="x", timeout=1
    )
    assert shown == []


def test_a_wrong_token_shows_no_tools(live_server, world):
    shown = allowed_tools(DOWNSTREAM, agent="prod-bot", portal=live_server.url, token="nope")
    assert shown == []
    assert Decision.objects.count() == 0
