"""The MCP server over stdio: `manage.py mcp --agent <slug>` as a real subprocess, driven by
the SDK's client, on a copy of the test database (SQLite) or the test database itself
(PostgreSQL: the world is committed)."""

import json
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from mcp import StdioServerParameters, types

from tests.agent_mcp.conftest import TOOLS, refused, run_calls
from tests.child_database import child_database_url

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def database_url(world, tmp_path):
    """A DATABASE_URL under which another process reads this test's world."""
    return child_database_url(tmp_path)


def environment(database_url: str, token: str | None) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    env.pop("PORTAL_TOKEN", None)
    if token is not None:
        env["PORTAL_TOKEN"] = token
    return env


def stdio(database_url: str, token: str | None, agent: str = "coder") -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp", "--agent", agent],
        env=environment(database_url, token),
        cwd=ROOT,
    )


def test_the_agent_asks_over_stdio(world, database_url):
    listed, check, mine, status, foreign, record = run_calls(
        stdio(database_url, world.tokens["eve"]),
        [
            ("tools/list", {}),
            ("check_access", {"capability": "github:merge"}),
            ("my_access", {}),
            ("request_status", {"request_id": world.pending.pk}),
            ("my_access", {"agent": "other-bot"}),
            ("resources/read", {"uri": "portal://agents/coder"}),
        ],
    )
    assert {tool.name for tool in listed.tools} == TOOLS
    assert check.structured_content["decision"] == "deny"
    assert check.structured_content["agent"] == "coder"
    assert {row["capability"] for row in mine.structured_content["capabilities"]} >= {
        "github:read",
        "jira:write",
    }
    assert status.structured_content["status"] == "pending"
    assert "This server speaks for agent 'coder' (manage.py mcp --agent coder)" in (
        refused(foreign)
    )
    assert json.loads(record.contents[0].text)["owner"] == "eve"


def test_a_person_requests_access_over_stdio_and_gets_no_agent_credential(world, database_url):
    asked = {"capability": "github:merge", "justification": "merge PR 7", "duration_hours": 1}
    filed, duplicate, credential = run_calls(
        stdio(database_url, world.tokens["eve"]),
        [
            ("request_access", {**asked, "scope": "acme/cli"}),
            ("request_access", {**asked, "scope": "acme/cli"}),
            ("get_credential", {"capabilities": ["github:read"]}),
        ],
    )
    answer = filed.structured_content
    assert (answer["status"], answer["requested_by"], answer["agent"]) == (
        "pending",
        "eve",
        "coder",
    )
    assert refused(duplicate).endswith(
        f"Request #{answer['id']} for the same access is already pending."
    )
    assert "get_credential is for an agent acting as itself" in refused(credential)


def refusal(monkeypatch, token: str | None, agent: str) -> str:
    """What `manage.py mcp` says when it refuses to start (before serving: run in-process)."""
    if token is None:
        monkeypatch.delenv("PORTAL_TOKEN", raising=False)
    else:
        monkeypatch.setenv("PORTAL_TOKEN", token)
    with pytest.raises(CommandError) as refused_start:
        call_command("mcp", agent=agent)
    return str(refused_start.value)


def test_it_refuses_to_start_without_a_valid_token_or_for_someone_elses_agent(world, monkeypatch):
    assert refusal(monkeypatch, None, "coder").startswith("Set PORTAL_TOKEN to your portal API")
    assert (
        refusal(monkeypatch, "not-a-token", "coder") == "PORTAL_TOKEN was refused: Invalid token."
    )
    assert refusal(monkeypatch, world.tokens["oscar"], "coder").startswith(
        "Only the owner of agent 'coder'"
    )
    assert refusal(monkeypatch, world.tokens["eve"], "nope") == "No agent with slug 'nope'."


def test_a_refused_start_exits_with_the_reason_on_stderr(world, database_url):
    """What an MCP client shows its user when the server will not start."""
    absent = subprocess.run(
        [sys.executable, "manage.py", "mcp", "--agent", "coder"],
        cwd=ROOT,
        env=environment(database_url, None),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert absent.returncode == 1
    assert "CommandError: Set PORTAL_TOKEN to your portal API token" in absent.stderr


class Wire:
    """`manage.py mcp` spoken to line by line, for what the SDK's client cannot send: it
    refuses to write a lone surrogate, which a client in another language (JSON.stringify of a
    broken string) writes as the valid JSON escape `"\\ud800"`. Replies are read with the
    SDK's own message types."""

    def __init__(self, database_url: str, token: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "mcp", "--agent", "coder"],
            cwd=ROOT,
            env=environment(database_url, token),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.replies: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.replies.put(line)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def reply(self) -> Any:
        """The next message from the server (a test failure after 30 s of silence)."""
        try:
            line = self.replies.get(timeout=30)
        except queue.Empty:
            pytest.fail("the server sent no reply within 30 s")
        return types.jsonrpc_message_adapter.validate_json(line, by_name=False)

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


def call(request_id: int, arguments_json: str) -> str:
    return (
        f'{{"jsonrpc":"2.0","id":{request_id},"method":"tools/call",'
        f'"params":{{"name":"check_access","arguments":{arguments_json}}}}}'
    )


def test_a_line_with_a_lone_surrogate_gets_an_error_reply_and_the_session_goes_on(
    world, database_url
):
    wire = Wire(database_url, world.tokens["eve"])
    try:
        hello = {"protocolVersion": "2025-06-18", "capabilities": {}}
        hello["clientInfo"] = {"name": "wire", "version": "1"}
        wire.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": hello}))
        assert isinstance(wire.reply(), types.JSONRPCResponse)
        wire.send('{"jsonrpc":"2.0","method":"notifications/initialized"}')
        wire.send(call(2, '{"capability":"github:read","scope":"\\ud800"}'))
        refused = wire.reply()
        assert isinstance(refused, types.JSONRPCError)
        assert (refused.id, refused.error.code, refused.error.message) == (
            2,
            types.INVALID_PARAMS,
            "Surrogate characters are not allowed: U+D800.",
        )
        wire.send("{not json")
        broken = wire.reply()
        assert isinstance(broken, types.JSONRPCError)
        assert (broken.id, broken.error.code) == (None, types.PARSE_ERROR)
        wire.send(call(3, '{"capability":"github:read"}'))
        answered = wire.reply()
        assert isinstance(answered, types.JSONRPCResponse)
        assert answered.id == 3
        assert answered.result["structuredContent"]["decision"] == "allow"
    finally:
        wire.close()
