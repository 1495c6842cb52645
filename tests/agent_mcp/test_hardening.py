"""Hostile input at /mcp: what a token claims is echoed safely in the 401's header, and a NUL
character in any argument (which PostgreSQL cannot store) is a tool error naming the argument,
never an "Error executing tool" with nothing said, and records nothing."""

import httpx2
import jwt
import pytest

from access.models import AccessRequest
from decisions.models import Decision
from tests.agent_mcp.conftest import refused, run_calls
from tests.agent_mcp.test_http import mcp

NUL = "contains a NUL (\\0) character; remove it"


@pytest.mark.parametrize(
    ("issuer", "shown"),
    [
        ("https://ci.example/\u2713", "https://ci.example/?"),  # not latin-1
        ("https://ci.example/\r\nX-Forged: 1", "https://ci.example/??X-Forged: 1"),
        ('https://ci.example/"\\', "https://ci.example/'?"),
    ],
    ids=["unicode", "line-break", "quote-and-backslash"],
)
def test_a_hostile_issuer_is_401_with_a_header_that_holds(portal, world, issuer, shown):
    token = jwt.encode({"iss": issuer, "sub": "x"}, "k" * 32, algorithm="HS256")
    response = httpx2.post(f"{portal}/mcp", headers={"Authorization": f"Bearer {token}"}, json={})
    assert response.status_code == 401, response.text
    reason = f"No trust provider has the issuer '{issuer}'."
    assert response.json() == {"error": "invalid_token", "error_description": reason}
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.endswith(
        f'error="invalid_token", error_description="No trust provider has the issuer \'{shown}\'."'
    )
    assert "X-Forged" not in response.headers


def test_a_nul_in_any_argument_is_a_tool_error_naming_it(portal, world):
    before = (AccessRequest.objects.count(), Decision.objects.count())
    ask = {"capability": "jira:write", "justification": "file it", "duration_hours": 1}
    calls = {
        "capability": ("check_access", {"capability": "github:re\x00ad"}),
        "scope": ("check_access", {"capability": "github:read", "scope": "acme/\x00"}),
        "justification": ("request_access", {**ask, "justification": "file\x00it"}),
        "ticket": ("request_access", {**ask, "ticket": "OPS-\x001"}),
        "capabilities.0": ("get_credential", {"capabilities": ["github:read\x00"]}),
        "agent": ("my_access", {"agent": "co\x00der"}),
    }
    answers = run_calls(
        mcp(portal, world.tokens["eve"]),
        [(tool, {"agent": "coder", **arguments}) for tool, arguments in calls.values()],
    )
    for argument, answer in zip(calls, answers, strict=True):
        message = refused(answer)
        assert argument in message, message
        assert NUL in message, message
    assert (AccessRequest.objects.count(), Decision.objects.count()) == before
