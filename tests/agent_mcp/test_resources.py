"""The MCP server's resources (the agent's registry record, its tier's published policy) and
its prompt, over streamable HTTP (conftest.portal)."""

import json

from mcp import MCPError
from mcp.types import INVALID_PARAMS

from tests.agent_mcp.conftest import run_calls
from tests.agent_mcp.test_http import mcp


def test_the_agent_record_and_its_tier_policy(portal, world):
    templates, record, policy = run_calls(
        mcp(portal, world.tokens["eve"]),
        [
            ("resources/templates/list", {}),
            ("resources/read", {"uri": "portal://agents/coder"}),
            ("resources/read", {"uri": "portal://agents/coder/policy"}),
        ],
    )
    assert {t.uri_template for t in templates.resource_templates} == {
        "portal://agents/{slug}",
        "portal://agents/{slug}/policy",
    }
    agent = json.loads(record.contents[0].text)
    assert (agent["slug"], agent["owner"], agent["tier"]) == ("coder", "eve", "production")
    rules = json.loads(policy.contents[0].text)
    assert rules["tier"] == "production"
    assert {rule["capability"]: rule["effect"] for rule in rules["rules"]} == {
        "deploy:release": "deny",
        "github:merge": "approval",
        "github:read": "allow",
        "jira:write": "jit",
    }


def test_someone_elses_agent_is_a_resource_error_with_the_reason(portal, world):
    (theirs,) = run_calls(
        mcp(portal, world.tokens["eve"]),
        [("resources/read", {"uri": "portal://agents/other-bot/policy"})],
    )
    assert isinstance(theirs, MCPError)
    assert "Only the owner of agent 'other-bot'" in str(theirs)


def test_the_prompt_walks_the_agent_through_its_access(portal, world):
    (prompt,) = run_calls(
        mcp(portal, world.tokens["eve"]),
        [
            (
                "prompts/get",
                {"name": "request-access-for-task", "arguments": {"task": "merge PR 42"}},
            )
        ],
    )
    text = prompt.messages[0].content.text
    assert text.startswith("The task: merge PR 42")
    assert "Call my_access" in text
    assert "call explain_policy" in text


def test_a_bad_prompt_request_is_an_invalid_params_error_that_says_what(portal, world, caplog):
    """Not "Internal server error" with a traceback in the log: the client is told what to fix."""
    prompt = "request-access-for-task"
    unknown, missing, extra, good = run_calls(
        mcp(portal, world.tokens["eve"]),
        [
            ("prompts/get", {"name": "nope", "arguments": {}}),
            ("prompts/get", {"name": prompt, "arguments": {}}),
            ("prompts/get", {"name": prompt, "arguments": {"task": "x", "tsak": "y"}}),
            ("prompts/get", {"name": prompt, "arguments": {"task": "merge PR 42"}}),
        ],
    )
    assert isinstance(unknown, MCPError)
    assert (unknown.code, unknown.message) == (
        INVALID_PARAMS,
        "Unknown prompt 'nope'; this server has 'request-access-for-task'",
    )
    assert isinstance(missing, MCPError)
    assert (missing.code, missing.message) == (INVALID_PARAMS, "Missing required arguments: task")
    assert isinstance(extra, MCPError)
    assert (extra.code, extra.message) == (
        INVALID_PARAMS,
        "Unknown arguments: 'tsak'; 'request-access-for-task' takes task",
    )
    assert good.messages[0].content.text.startswith("The task: merge PR 42")
    assert not [record for record in caplog.records if record.exc_info]
