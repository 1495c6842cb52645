"""`manage.py policy export|import|diff`: the policy as a file in a pipeline."""

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.models import PolicyRule, PolicyStatus, PolicyVersion
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from registry.policy_rules import describe
from tests.child_database import child_database_url
from tests.registry.factories import demo_policy

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
REFUSAL = "Only security manages the policy, tiers, teams, tools and capabilities."
# Tighter than v1 (the demo policy) everywhere, production never the easiest tier: no warning.
MERGE_2H = '"github:merge": {effect: approval, max_duration_hours: 2}'
TIGHTER = (
    "format: 1\n"
    "comment: Lock down\n"
    "tiers:\n"
    "  sandbox:\n"
    '    "github:read": {effect: allow}\n'
    f"    {MERGE_2H}\n"
    "  internal:\n"
    f"    {MERGE_2H}\n"
    "  production:\n"
    f"    {MERGE_2H}\n"
)
INVALID = (
    "format: 1\n"
    "tiers:\n"
    "  sandbox:\n"
    '    "github:write": {effect: jit}\n'
    '    "slack:post": {effect: allow}\n'
)


def looser() -> str:
    """v1 with high-risk production merges opened to jit and a longer production read."""
    return (
        run("export")[0]
        .replace(
            '"github:merge": {effect: approval, max_duration_hours: 4}',
            '"github:merge": {effect: jit, max_duration_hours: 4}',
        )
        .replace(
            '"github:read": {effect: jit, max_duration_hours: 24}',
            '"github:read": {effect: jit, max_duration_hours: 48}',
        )
    )


@pytest.fixture
def v1(security):
    return demo_policy(security)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("policy", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> CommandError:
    with pytest.raises(CommandError) as raised:
        run(*args)
    return raised.value


def write(tmp_path: Path, text: str, name: str = "policy.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def counts() -> tuple[int, int, int]:
    return PolicyVersion.objects.count(), PolicyRule.objects.count(), LogEntry.objects.count()


# -- export -------------------------------------------------------------------------------------


def test_export_writes_the_published_version_to_stdout(api, security, v1):
    out, _ = run("export")
    from_api = api.as_user(security).get("/api/v1/policy/versions/1/export/").content.decode()
    assert out == from_api
    assert out.startswith("# Agent Governance Portal tier policy.")
    assert '    "deploy:release": {effect: approval, max_duration_hours: 2}\n' in out


def test_export_to_a_file_of_a_version_as_json(api, security, v1, tmp_path):
    run("import", write(tmp_path, TIGHTER), "--as", security.username)  # draft v2
    target = tmp_path / "out" / "v2.json"
    target.parent.mkdir()
    out, err = run("export", "--version", "2", "--format", "json", "--output", str(target))
    assert out == ""
    assert err.strip() == f"v2 (draft) written to {target}"
    from_api = api.as_user(security).get("/api/v1/policy/versions/2/export/?format=json")
    assert target.read_bytes() == from_api.content
    assert '"comment": "Lock down"' in target.read_text()


def test_export_of_a_missing_version_or_with_nothing_published_is_refused(security):
    assert str(refused("export")) == (
        "No policy version is published yet; name one with --version."
    )
    demo_policy(security)
    assert str(refused("export", "--version", "9")) == "No policy version 9."


# -- import -------------------------------------------------------------------------------------


def test_import_without_as_only_checks_the_file(v1, tmp_path):
    path = write(tmp_path, TIGHTER)
    before = counts()
    out, _ = run("import", path)
    assert out.strip() == f"{path}: valid, 4 rules. Nothing created."
    assert counts() == before


def test_an_invalid_file_is_refused_with_each_line_and_nothing_created(security, v1, tmp_path):
    path = write(tmp_path, INVALID)
    before = counts()
    for extra in ([], ["--as", security.username], ["--as", security.username, "--publish"]):
        error = refused("import", path, *extra)
        assert error.returncode == 1
        assert str(error).splitlines() == [
            "The policy file has 2 errors; nothing was created.",
            f"  {path}: line 4, tiers.sandbox.github:write.max_duration_hours: "
            "A jit rule needs a maximum duration "
            f"(1 to {settings.POLICY_MAX_DURATION_HOURS} hours).",
            f"  {path}: line 5, tiers.sandbox.slack:post: "
            "unknown capability 'slack:post': add it to the catalogue first.",
        ]
    assert counts() == before


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "Cannot read"), (b"comment: caf\xe9\n", "Cannot read")],
    ids=["missing", "not-utf-8"],
)
def test_an_unreadable_file_is_refused(v1, tmp_path, content, message):
    path = tmp_path / "policy.yaml"
    if content is not None:
        path.write_bytes(content)
    assert str(refused("import", str(path))).startswith(f"{message} {path}")


def test_import_as_a_security_user_creates_the_draft_audited_as_them(security, v1, tmp_path):
    path = write(tmp_path, TIGHTER)
    out, _ = run("import", path, "--as", security.username)
    assert out.strip() == f"Draft v2 created from {path} as {security.username}."
    draft = PolicyVersion.objects.get(number=2)
    assert (draft.status, draft.notes, draft.created_by) == ("draft", "Lock down", security)
    assert set(draft.rules.values_list("tier", "capability__key", "effect")) == {
        ("sandbox", "github:read", "allow"),
        ("sandbox", "github:merge", "approval"),
        ("internal", "github:merge", "approval"),
        ("production", "github:merge", "approval"),
    }
    entries = LogEntry.objects.get_for_object(draft)
    assert {entry.actor for entry in entries} == {security}
    assert entries.get(action=LogEntry.Action.UPDATE).changes["rules"][1] == (
        f"4 rules imported from {path}"
    )


@pytest.mark.parametrize(
    ("username", "message"),
    [("eve", REFUSAL), ("aud", REFUSAL), ("ghost", "No active user 'ghost'.")],
)
def test_import_as_anyone_but_security_is_refused(role_users, v1, tmp_path, username, message):
    before = counts()
    assert str(refused("import", write(tmp_path, TIGHTER), "--as", username)) == message
    assert counts() == before


def test_publish_needs_a_user(v1, tmp_path):
    before = counts()
    error = refused("import", write(tmp_path, TIGHTER), "--publish")
    assert str(error) == "--publish needs --as USER (a security user)."
    assert counts() == before


def test_publish_a_tightening_without_a_reason(security, v1, tmp_path):
    out, _ = run("import", write(tmp_path, TIGHTER), "--as", security.username, "--publish")
    assert out.splitlines()[-1] == "Policy v2 published."
    v2 = PolicyVersion.objects.get(number=2)
    assert (v2.status, v2.published_by, v2.publish_reason, v2.publish_warnings) == (
        PolicyStatus.PUBLISHED,
        security,
        "",
        [],
    )


def test_publish_a_loosening_without_a_reason_keeps_the_draft(security, v1, tmp_path):
    error = refused("import", write(tmp_path, looser()), "--as", security.username, "--publish")
    assert str(error).splitlines() == [
        "Publishing v2 loosens the policy in 3 places: say why (a reason) to publish it.",
        "  High-risk production github:merge becomes 'jit' (was approval ≤ 4h).",
        "  production github:read: the maximum duration goes up from 24h to 48h.",
        "  production github:merge (jit ≤ 4h) is less strict than sandbox (approval ≤ 8h), "
        "internal (approval ≤ 8h).",
        "Draft v2 is kept, unpublished.",
    ]
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT
    assert PolicyVersion.objects.filter(status=PolicyStatus.PUBLISHED).count() == 1


def test_a_publish_reason_over_the_limit_is_refused_and_keeps_the_draft(security, v1, tmp_path):
    path = write(tmp_path, looser())
    reason = "x" * (POLICY_TEXT_MAX_LENGTH + 1)
    error = refused("import", path, "--as", security.username, "--publish", "--reason", reason)
    assert str(error).splitlines() == [
        f"reason is limited to {POLICY_TEXT_MAX_LENGTH} characters.",
        "Draft v2 is kept, unpublished.",
    ]
    assert PolicyVersion.objects.get(number=2).status == PolicyStatus.DRAFT


def test_publish_a_loosening_with_a_reason_stores_it(security, v1, tmp_path):
    reason = "Merge bots go self-service (ticket SEC-42)."
    out, _ = run(
        "import",
        write(tmp_path, looser()),
        "--as",
        security.username,
        "--publish",
        "--reason",
        reason,
    )
    assert "Policy v2 published." in out
    v2 = PolicyVersion.objects.get(number=2)
    assert (v2.status, v2.publish_reason) == (PolicyStatus.PUBLISHED, reason)
    assert [w["kind"] for w in v2.publish_warnings] == [
        "high_risk_opened",
        "duration_increased",
        "production_less_strict",
    ]
    updates = LogEntry.objects.get_for_object(v2).filter(action=LogEntry.Action.UPDATE)
    published = [entry for entry in updates if "publish_reason" in entry.changes]
    assert [(entry.actor, entry.changes["publish_reason"][1]) for entry in published] == [
        (security, reason)
    ]


# -- diff ---------------------------------------------------------------------------------------


def test_diff_of_the_exported_file_is_exit_status_0(v1, tmp_path):
    path = write(tmp_path, run("export")[0])
    out, _ = run("diff", path)
    assert out.strip() == f"{path}: the same rules as published v1."


def test_diff_of_a_changed_file_is_exit_status_1_and_lists_the_rules(v1, tmp_path):
    exported = run("export")[0]
    changed = exported.replace(
        '"github:read": {effect: jit, max_duration_hours: 24}',
        '"github:read": {effect: approval, max_duration_hours: 2}',
    ).replace('    "vault:read_secret": {effect: deny}\n', "", 1)
    path = write(tmp_path, changed)
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("policy", "diff", path, stdout=out)
    assert raised.value.returncode == 1
    assert str(raised.value) == "The file differs from the published policy."
    assert out.getvalue().splitlines() == [
        f"{path}: 2 rules differ from published v1:",
        f"  sandbox vault:read_secret: deny -> {describe(None)}",
        "  production github:read: jit ≤ 24h -> approval ≤ 2h",
    ]


def test_diff_with_nothing_published(db, tmp_path):
    empty = write(tmp_path, "format: 1\ntiers: {}\n")
    assert run("diff", empty)[0].strip() == f"{empty}: the same rules as no published version."


def test_diff_of_an_invalid_file_is_refused_with_its_own_exit_status(v1, tmp_path):
    # 1 means "the file differs"; an invalid or unreadable file is 2, so CI tells them apart.
    assert refused("diff", write(tmp_path, INVALID)).returncode == 2
    assert refused("diff", str(tmp_path / "missing.yaml")).returncode == 2


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)  # committed: the child process reads it
def test_diff_exit_status_of_the_real_process(v1, tmp_path):
    database = child_database_url(tmp_path)
    same = write(tmp_path, run("export")[0], "same.yaml")
    differs = write(tmp_path, TIGHTER, "differs.yaml")
    ok = manage(database, "policy", "diff", same)
    assert (ok.returncode, ok.stdout.strip()) == (0, f"{same}: the same rules as published v1.")
    failed = manage(database, "policy", "diff", differs)
    assert failed.returncode == 1, failed.stderr
    assert "CommandError: The file differs from the published policy." in failed.stderr
    assert "production github:merge: approval ≤ 4h -> approval ≤ 2h" in failed.stdout
