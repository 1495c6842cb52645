"""The agent acting as itself: its pipeline's subject token (real keys, a real JWKS server) as
the bearer token at /mcp, verified exactly as the token exchange verifies it. It speaks for
itself only, files what it asks for for its owner to confirm, and gets its own credential."""

import time

import httpx2
import jwt
from django.conf import settings
from mcp import MCPError

from access.models import AccessRequest
from credentials.models import IssuedCredential, RefusedExchange
from decisions.models import Decision
from tests.agent_mcp.conftest import TOOLS, refused, run_calls
from tests.agent_mcp.test_http import mcp
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT, Platform

NOT_ITSELF = (
    "This token is the workload identity of agent 'coder': it acts as that agent only, and "
    "may not see or request anything for agent 'other-bot'."
)


def as_itself(portal, workload, calls):
    return run_calls(mcp(portal, workload.token()), calls)


def post(portal, token):
    """One raw MCP request, to read the HTTP answer the gate gives."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx2.post(
        f"{portal}/mcp",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        json=body,
    )


def test_the_agent_asks_about_itself_without_naming_itself(portal, world, workload):
    listed, check, mine, status, record = as_itself(
        portal,
        workload,
        [
            ("tools/list", {}),
            ("check_access", {"capability": "github:read"}),
            ("my_access", {}),
            ("request_status", {"request_id": world.pending.pk}),
            ("resources/read", {"uri": "portal://agents/coder"}),
        ],
    )
    assert {tool.name for tool in listed.tools} == TOOLS
    assert (check.structured_content["agent"], check.structured_content["decision"]) == (
        "coder",
        "allow",
    )
    # Recorded like every decision; no person asked: the workload identity that did is named.
    logged = Decision.objects.get(pk=check.structured_content["decision_id"])
    assert (logged.agent_slug, logged.caller) == ("coder", None)
    assert logged.caller_workload == f"github-actions: {GITHUB_SUBJECT}"
    rows = {row["capability"]: row["decision"] for row in mine.structured_content["capabilities"]}
    assert rows["jira:write"] == "allow"
    assert status.structured_content["status"] == "pending"
    assert '"slug": "coder"' in record.contents[0].text


def test_it_is_refused_anything_about_another_agent(portal, world, workload):
    before = (AccessRequest.objects.count(), Decision.objects.count())
    answers = as_itself(
        portal,
        workload,
        [
            ("check_access", {"capability": "github:read", "agent": "other-bot"}),
            ("my_access", {"agent": "other-bot"}),
            ("explain_policy", {"capability": "github:read", "agent": "other-bot"}),
            ("request_status", {"request_id": world.theirs.pk, "agent": "other-bot"}),
            (
                "request_access",
                {
                    "capability": "github:merge",
                    "justification": "x",
                    "duration_hours": 1,
                    "agent": "other-bot",
                },
            ),
            ("get_credential", {"capabilities": ["github:read"], "agent": "other-bot"}),
            ("resources/read", {"uri": "portal://agents/other-bot/policy"}),
        ],
    )
    for answer in answers[:-1]:
        assert NOT_ITSELF in refused(answer)
    assert isinstance(answers[-1], MCPError)
    assert NOT_ITSELF in str(answers[-1])
    assert (AccessRequest.objects.count(), Decision.objects.count()) == before
    # Nor does it read another agent's request by its number under its own name.
    (theirs,) = as_itself(portal, workload, [("request_status", {"request_id": world.theirs.pk})])
    assert refused(theirs).endswith(f"No access request #{world.theirs.pk} for agent 'coder'.")


def test_what_it_files_waits_for_its_owner_then_reaches_security(client, portal, world, workload):
    arguments = {
        "capability": "github:merge",
        "justification": "merge PR 42 of acme/api",
        "duration_hours": 2,
        "scope": "acme/api",
        "ticket": "ENG-42",
    }
    (filed,) = as_itself(portal, workload, [("request_access", arguments)])
    answer = filed.structured_content
    assert (answer["status"], answer["requested_by"], answer["filed_by_agent"]) == (
        "awaiting_owner",
        "eve",
        True,
    )
    assert answer["waiting_for"] == (
        f"waiting for its owner eve (or a member of team {world.coder.team.slug}) to confirm "
        "it; security sees it only then"
    )
    request = AccessRequest.objects.get(pk=answer["id"])
    assert answer["url"].endswith(f"/requests/{request.pk}/")
    assert request.filed_by_workload == workload.identity

    client.force_login(world.security)
    assert f'data-request="{request.pk}"' not in client.get("/approvals/").content.decode()
    client.force_login(world.eve)
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert "Filed by agent coder through MCP for owner eve" in page
    client.post(f"/requests/{request.pk}/confirm/")
    client.force_login(world.security)
    assert f'data-request="{request.pk}"' in client.get("/approvals/").content.decode()

    (status,) = as_itself(portal, workload, [("request_status", {"request_id": request.pk})])
    assert status.structured_content["status"] == "pending"
    assert status.structured_content["waiting_for"] == "waiting for two security approvers"


def test_its_requests_meet_the_same_refusals_as_a_persons(portal, world, workload):
    def ask(**overrides):
        arguments = {"capability": "github:merge", "justification": "x", "duration_hours": 2}
        return ("request_access", {**arguments, **overrides})

    before = AccessRequest.objects.count()
    duplicate, denied, too_long, standing, unknown = as_itself(
        portal,
        workload,
        [
            ask(),
            ask(capability="deploy:release"),
            ask(duration_hours=9),
            ask(capability="github:read"),
            ask(capability="github:fly"),
        ],
    )
    assert refused(duplicate).endswith(
        f"Request #{world.pending.pk} for the same access is already pending."
    )
    assert "Policy v1 denies deploy:release on production agents" in refused(denied)
    assert "the maximum is 4 hours" in refused(too_long)
    assert "Nothing to request: policy v1 allows github:read on production agents" in (
        refused(standing)
    )
    assert refused(unknown).endswith("No capability 'github:fly'.")
    assert AccessRequest.objects.count() == before


def test_its_credential_verifies_against_the_portals_jwks(portal, world, workload):
    (issued,) = as_itself(
        portal,
        workload,
        [("get_credential", {"capabilities": ["github:read", "jira:write"], "scope": "acme/api"})],
    )
    answer = issued.structured_content
    assert (answer["token_type"], answer["scope"], answer["resource"]) == (
        "Bearer",
        "github:read jira:write",
        "acme/api",
    )
    # jira:write rests on the jit grant (3 h): the token ends at the maximum TTL before it.
    assert answer["expires_in"] == settings.CREDENTIAL_MAX_TTL_SECONDS
    keys = jwt.PyJWKSet.from_dict(httpx2.get(f"{portal}/.well-known/jwks.json").json())
    token = answer["access_token"]
    claims = jwt.decode(
        token,
        key=keys[jwt.get_unverified_header(token)["kid"]],
        algorithms=["ES256", "EdDSA"],
        audience="jira",
        issuer=settings.PORTAL_ISSUER,
    )
    assert (claims["sub"], claims["scope"], claims["resource"]) == (
        "agent:coder",
        "github:read jira:write",
        "acme/api",
    )
    assert claims["grants"] == [world.jit.grant.pk]
    assert claims["workload"] == {"provider": "github-actions", "sub": GITHUB_SUBJECT}
    assert IssuedCredential.objects.get(jti=answer["jti"]).agent == world.coder


def test_a_credential_is_refused_with_the_reasons(portal, world, workload):
    denied, malformed, spaced, empty = as_itself(
        portal,
        workload,
        [
            ("get_credential", {"capabilities": ["github:read", "github:merge"]}),
            ("get_credential", {"capabilities": ["github"]}),
            ("get_credential", {"capabilities": ["github:read github:merge"]}),
            ("get_credential", {"capabilities": []}),
        ],
    )
    assert "github:merge: " in refused(denied)
    assert "github:read:" not in refused(denied)  # only the denied one is named
    assert "'github' is not a capability (tool:action)." in refused(malformed)
    assert "each one is a tool:action without spaces" in refused(spaced)
    assert "capabilities\n  List should have at least 1 item" in refused(empty)
    assert not IssuedCredential.objects.exists()
    (as_a_person,) = run_calls(
        mcp(portal, world.tokens["eve"]),
        [("get_credential", {"capabilities": ["github:read"], "agent": "coder"})],
    )
    assert "get_credential is for an agent acting as itself" in refused(as_a_person)


def test_an_unverifiable_workload_token_is_401_saying_why(portal, world, workload):
    impostor = Platform(kid=workload.platform.kid)  # the same kid, another key
    expired_at = int(time.time()) - 600
    cases = {
        impostor.token(GITHUB_SUBJECT, **GITHUB_CLAIMS): "The subject token is not valid",
        workload.platform.token(
            GITHUB_SUBJECT, iat=expired_at - 60, nbf=expired_at - 60, exp=expired_at
        ): "The subject token has expired.",
        workload.platform.token("repo:acme/other:ref:refs/heads/main"): "is bound to no agent",
        "not.a.jwt": "The subject token is not a JWT",
    }
    for token, reason in cases.items():
        response = post(portal, token)
        assert response.status_code == 401, response.text
        assert reason in response.json()["error_description"]
        challenge = response.headers["WWW-Authenticate"]
        assert challenge.startswith('Bearer resource_metadata="')
        assert 'error="invalid_token"' in challenge
    # A genuine token refused for its binding is recorded for security, as the exchange does.
    assert RefusedExchange.objects.filter(subject="repo:acme/other:ref:refs/heads/main").exists()


def test_an_unreachable_jwks_is_a_503_that_says_so(portal, world, workload):
    workload.jwks_server.failing = True
    response = post(portal, workload.token())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json()["error"] == "temporarily_unavailable"
    assert "The trust provider's keys cannot be read now" in (response.json()["error_description"])
