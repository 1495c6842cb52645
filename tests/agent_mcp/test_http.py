"""The MCP server over streamable HTTP at /mcp, served by the portal's ASGI application under
uvicorn (conftest.portal: one server per session, in a thread, on the test database), driven
by the SDK's own client with a person's API token as the bearer token."""

from datetime import timedelta

import httpx2
from django.conf import settings
from django.utils import timezone
from mcp.client.streamable_http import streamable_http_client
from rest_framework.authtoken.models import Token

from access.models import AccessRequest
from access.selectors import requests_awaiting
from decisions.models import Decision
from tests.agent_mcp.conftest import TOOLS, refused, run_calls


def mcp(portal, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return streamable_http_client(f"{portal}/mcp", http_client=httpx2.AsyncClient(headers=headers))


def call(portal, world, tool, user="eve", **arguments):
    arguments.setdefault("agent", "coder")
    return run_calls(mcp(portal, world.tokens[user]), [(tool, arguments)])[0]


def test_lists_the_tools_with_their_schemas(portal, world):
    (listed,) = run_calls(mcp(portal, world.tokens["eve"]), [("tools/list", {})])
    tools = {tool.name: tool for tool in listed.tools}
    assert set(tools) == TOOLS
    check = tools["check_access"]
    assert check.input_schema["required"] == ["capability"]
    assert check.input_schema["properties"]["scope"]["maxLength"] == 500
    assert "decision" in check.output_schema["properties"]


def test_check_access_answers_and_records_the_decision(portal, world):
    allowed = call(portal, world, "check_access", capability="github:read")
    assert not allowed.is_error
    assert allowed.structured_content["decision"] == "allow"
    record = Decision.objects.get(pk=allowed.structured_content["decision_id"])
    assert (record.caller, record.capability_key) == (world.eve, "github:read")

    denied = call(portal, world, "check_access", capability="deploy:release")
    assert denied.structured_content["decision"] == "deny"
    assert denied.structured_content["reason"]


def test_only_the_people_who_run_the_agent_and_security_speak_for_it(portal, world):
    mine = "Only the owner of agent 'coder', its team's members, security and gateways"
    assert mine in refused(call(portal, world, "check_access", "oscar", capability="github:read"))
    assert mine in refused(call(portal, world, "my_access", "aud"))
    by_security = call(portal, world, "my_access", "sec1")
    assert not by_security.is_error


def test_the_agent_must_be_named_and_exist(portal, world):
    nameless = call(portal, world, "my_access", agent=None)
    assert "the `agent` argument (its slug) is required" in refused(nameless)
    assert "No agent with slug 'nope'." in refused(call(portal, world, "my_access", agent="nope"))


def test_my_access_lists_every_capability_with_until_when(portal, world):
    result = call(portal, world, "my_access")
    rows = {row["capability"]: row for row in result.structured_content["capabilities"]}
    assert rows["github:read"]["decision"] == "allow"
    assert rows["github:read"]["until"] is None
    assert rows["jira:write"]["decision"] == "allow"
    assert rows["jira:write"]["grant"] == world.jit.grant.pk
    assert rows["github:merge"]["decision"] == "deny"


def test_explain_policy_says_how_to_get_access(portal, world):
    merge = call(portal, world, "explain_policy", capability="github:merge").structured_content
    assert (merge["effect"], merge["max_duration_hours"], merge["tier"]) == (
        "approval",
        4,
        "production",
    )
    assert (
        "wait for security: it needs production + high-risk: two security approvers"
        in (merge["how_to_get_access"])
    )
    jit = call(portal, world, "explain_policy", capability="jira:write").structured_content
    assert jit["how_to_get_access"].startswith("Request it (up to 8h): just-in-time")
    release = call(portal, world, "explain_policy", capability="deploy:release")
    assert "only a policy exception" in release.structured_content["how_to_get_access"]
    unknown = call(portal, world, "explain_policy", capability="vault:nothing")
    assert refused(unknown) == "Error executing tool explain_policy: No capability 'vault:nothing'."
    malformed = call(portal, world, "explain_policy", capability="github")
    assert "Capabilities are written tool:action" in refused(malformed)


def test_request_status_pending_and_granted(portal, world):
    pending = call(portal, world, "request_status", request_id=world.pending.pk)
    answer = pending.structured_content
    assert (answer["status"], answer["required_approvals"], answer["grant"]) == (
        "pending",
        2,
        None,
    )
    assert answer["waiting_for"] == "waiting for two security approvers"
    granted = call(portal, world, "request_status", request_id=world.jit.pk).structured_content
    assert granted["status"] == "approved"
    assert granted["grant"]["state"] == "active"
    assert 3 * 3600 - 120 < granted["grant"]["seconds_left"] <= 3 * 3600


def test_request_status_of_a_hidden_or_foreign_request_is_not_found(portal, world):
    # Eve may not see Oscar's request; security may, but it is not for agent coder.
    for user in ("eve", "sec1"):
        other = call(portal, world, "request_status", user, request_id=world.theirs.pk)
        assert refused(other).endswith(f"No access request #{world.theirs.pk} for agent 'coder'.")
    missing = call(portal, world, "request_status", request_id=999_999)
    assert refused(missing).endswith("No access request #999999 for agent 'coder'.")


def test_bad_arguments_are_tool_errors_that_name_the_argument(portal, world):
    wrong_type = refused(call(portal, world, "request_status", request_id="abc"))
    assert "request_id\n  Input should be a valid integer" in wrong_type
    too_long = call(portal, world, "check_access", capability="github:read", scope="x" * 501)
    assert "scope\n  String should have at most 500 characters" in refused(too_long)
    assert "capability\n  Field required" in refused(call(portal, world, "check_access"))


def test_without_a_token_the_answer_is_401_with_the_metadata_address(portal, world):
    metadata = f"{settings.PORTAL_ISSUER}/.well-known/oauth-protected-resource"
    response = httpx2.post(f"{portal}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == f'Bearer resource_metadata="{metadata}"'

    document = httpx2.get(f"{portal}/.well-known/oauth-protected-resource")
    assert document.status_code == 200
    assert document.json()["resource"] == f"{settings.PORTAL_ISSUER}/mcp"
    assert document.json()["bearer_methods_supported"] == ["header"]


def test_a_bad_or_expired_token_is_401_invalid_token(portal, world):
    bad = httpx2.post(f"{portal}/mcp", headers={"Authorization": "Bearer nope"}, json={})
    assert bad.status_code == 401
    assert (
        'error="invalid_token", error_description="Invalid token."'
        in (bad.headers["WWW-Authenticate"])
    )
    Token.objects.filter(user=world.eve).update(
        created=timezone.now() - timedelta(hours=settings.API_TOKEN_TTL_HOURS + 1)
    )
    expired = httpx2.post(
        f"{portal}/mcp", headers={"Authorization": f"Bearer {world.tokens['eve']}"}, json={}
    )
    assert expired.status_code == 401
    assert expired.json()["error_description"].startswith("Token expired")


def test_the_rest_of_the_portal_is_still_django(portal, world):
    assert httpx2.get(f"{portal}/healthz").status_code == 200


def test_a_host_outside_allowed_hosts_is_refused(portal, world):
    forged = httpx2.post(
        f"{portal}/mcp",
        headers={"Host": "evil.example", "Authorization": f"Bearer {world.tokens['eve']}"},
        json={},
    )
    assert (forged.status_code, forged.json()["error_description"]) == (400, "Bad host.")


def test_a_person_files_a_request_in_their_own_name(portal, world):
    filed = call(
        portal,
        world,
        "request_access",
        capability="github:merge",
        justification="merge PR 42",
        duration_hours=2,
        scope="acme/web",
    ).structured_content
    assert (filed["status"], filed["requested_by"], filed["filed_by_agent"]) == (
        "pending",
        "eve",
        False,
    )
    assert filed["waiting_for"] == "waiting for two security approvers"
    assert filed["id"] in {r.pk for r in requests_awaiting(world.security)}
    jit = call(
        portal,
        world,
        "request_access",
        capability="jira:write",
        justification="file the incident",
        duration_hours=2,
        scope="OPS",
    ).structured_content
    assert (jit["status"], jit["grant"]["state"]) == ("approved", "active")


def test_a_persons_request_meets_the_apis_refusals_and_bad_arguments_name_the_field(portal, world):
    def ask(user="eve", **overrides):
        arguments = {"capability": "github:merge", "justification": "x", "duration_hours": 2}
        return call(portal, world, "request_access", user, **{**arguments, **overrides})

    before = AccessRequest.objects.count()
    assert refused(ask()).endswith(
        f"Request #{world.pending.pk} for the same access is already pending."
    )
    assert "Policy v1 denies deploy:release" in refused(ask(capability="deploy:release"))
    # Security may speak for any agent, but requests access only for agents it runs.
    assert "Only the owner of 'coder' or a member of team" in refused(ask("sec1", scope="a/b"))
    assert "duration_hours\n  Input should be greater than or equal to 1" in refused(
        ask(duration_hours=0)
    )
    assert "justification\n  String should have at least 1 character" in refused(
        ask(justification="")
    )
    assert "ticket\n  String should have at most 100 characters" in refused(ask(ticket="T" * 101))
    assert AccessRequest.objects.count() == before
