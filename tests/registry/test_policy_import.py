"""Importing a policy file through the API: every error named by line and field, nothing
created by a bad file, a good file becomes a draft with exactly its rules; who may do it."""

import pytest
from auditlog.models import LogEntry
from django.conf import settings

from registry.models import PolicyRule, PolicyVersion
from tests.registry.factories import demo_policy

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/policy/versions/import/"
LIMIT = settings.POLICY_MAX_DURATION_HOURS
REFUSAL = "Only security manages the policy, tiers, teams, tools and capabilities."


@pytest.fixture
def v1(security):
    return demo_policy(security)


def post(client, body, content_type="application/yaml"):
    return client.post(IMPORT, data=body, content_type=content_type)


def counts() -> tuple[int, int, int]:
    return PolicyVersion.objects.count(), PolicyRule.objects.count(), LogEntry.objects.count()


def policy(*rule_lines: str, top: str = "") -> str:
    """A file with `rule_lines` under sandbox: line 1 the header, the first rule on line 5."""
    rules = "".join(f"    {line}\n" for line in rule_lines)
    return f"# a policy\nformat: 1\n{top}tiers:\n  sandbox:\n{rules}  internal: {{}}\n"


# name: (file, [(line, field, part of the message), ...])
BAD_FILES = {
    "bad YAML": (
        'format: 1\ntiers:\n  sandbox: {"github:read": {effect: allow}\n  internal: {}\n',
        [(4, "", "not valid YAML")],
    ),
    "unknown tier": (
        'format: 1\ntiers:\n  sandbox: {}\n  staging:\n    "github:read": {effect: allow}\n',
        [(4, "tiers.staging", "unknown field; use sandbox, internal, production")],
    ),
    "unknown capability": (
        policy('"github:read": {effect: allow}', '"slack:post": {effect: allow}'),
        [(6, "tiers.sandbox.slack:post", "unknown capability 'slack:post'")],
    ),
    "jit without hours": (
        policy('"github:write": {effect: jit}'),
        [(5, "tiers.sandbox.github:write.max_duration_hours", "A jit rule needs")],
    ),
    "hours above the maximum": (
        policy(f'"github:write": {{effect: approval, max_duration_hours: {LIMIT + 1}}}'),
        [(5, "tiers.sandbox.github:write.max_duration_hours", f"between 1 and {LIMIT}")],
    ),
    "hours on allow": (
        policy('"github:read": {effect: allow, max_duration_hours: 4}'),
        [(5, "tiers.sandbox.github:read.max_duration_hours", "has no maximum duration")],
    ),
    "duplicate capability": (
        policy('"github:read": {effect: allow}', '"github:read": {effect: deny}'),
        [(6, "tiers.sandbox.github:read", "duplicate key (first on line 5)")],
    ),
    "duplicate tier": (
        "format: 1\ntiers:\n  sandbox: {}\n  internal: {}\n  sandbox: {}\n",
        [(5, "tiers.sandbox", "duplicate key (first on line 3)")],
    ),
    "duplicate rule field": (
        policy('"github:read": {effect: allow, effect: deny}'),
        [(5, "tiers.sandbox.github:read.effect", "duplicate key")],
    ),
    "unknown rule field": (
        policy('"github:read": {effect: allow, expires: tomorrow}'),
        [(5, "tiers.sandbox.github:read.expires", "unknown field; use effect, max_duration_hours")],
    ),
    "unknown top field": (
        policy('"github:read": {effect: allow}', top="owner: sec\n"),
        [(3, "owner", "unknown field; use format, comment, tiers")],
    ),
    "hours as text": (
        policy('"github:write": {effect: jit, max_duration_hours: eight}'),
        [(5, "tiers.sandbox.github:write.max_duration_hours", "whole number of hours")],
    ),
    "unknown effect": (
        policy('"github:read": {effect: sometimes}'),
        [(5, "tiers.sandbox.github:read.effect", "Unknown effect 'sometimes'")],
    ),
    "no effect": (
        policy('"github:read": {max_duration_hours: 4}'),
        [(5, "tiers.sandbox.github:read.effect", "is required")],
    ),
    "a rule that is a list": (
        policy('"github:read": [allow]'),
        [(5, "tiers.sandbox.github:read", "must be a mapping")],
    ),
    "wrong format": (
        "format: 2\ntiers: {}\n",
        [(1, "format", "must be 1")],
    ),
    "comment not text": (
        "format: 1\ncomment: [a, b]\ntiers: {}\n",
        [(2, "comment", "must be text")],
    ),
    "no tiers": ("format: 1\n", [(1, "tiers", "is required")]),
    "not a mapping": ("- format\n- tiers\n", [(1, "", "must be a mapping")]),
    "only a comment": ("# nothing else\n", [(None, "", "the file is empty")]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_is_a_400_naming_line_and_field_and_creates_nothing(api, security, v1, case):
    text, expected = BAD_FILES[case]
    before = counts()
    response = post(api.as_user(security), text.encode())
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "policy_file_invalid"
    assert "nothing was created" in body["detail"]
    found = [(e["line"], e["field"]) for e in body["errors"]]
    assert found == [(line, field) for line, field, _ in expected]
    for error, (_, _, message) in zip(body["errors"], expected, strict=True):
        assert message in error["message"]
    assert counts() == before


def test_every_error_of_a_file_is_listed_in_line_order(api, security, v1):
    text = policy(
        '"slack:post": {effect: allow}',
        '"github:write": {effect: jit}',
        '"github:read": {effect: allow, max_duration_hours: 2}',
        top="owner: sec\n",
    )
    before = counts()
    response = post(api.as_user(security), text.encode())
    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("The policy file has 4 errors; nothing was created.")
    assert [(e["line"], e["field"]) for e in body["errors"]] == [
        (3, "owner"),
        (6, "tiers.sandbox.slack:post"),
        (7, "tiers.sandbox.github:write.max_duration_hours"),
        (8, "tiers.sandbox.github:read.max_duration_hours"),
    ]
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "message", "code"),
    [
        (b"", "Send the policy file (YAML or JSON) as the request body.", "invalid"),
        (b"  \n\n ", "Send the policy file (YAML or JSON) as the request body.", "invalid"),
        ("tiers: {}\n".encode("utf-16"), "The policy file must be UTF-8 text.", "invalid"),
        (b"format: 1\ncomment: caf\xe9\n", "The policy file must be UTF-8 text.", "invalid"),
    ],
    ids=["empty", "blank", "utf-16", "latin-1"],
)
def test_an_empty_or_undecodable_body_is_a_400_and_creates_nothing(
    api, security, v1, body, message, code
):
    before = counts()
    response = post(api.as_user(security), body)
    assert response.status_code == 400, response.content
    assert response.json() == {"detail": message, "code": code}
    assert counts() == before


def test_a_file_over_the_body_limit_is_a_400_and_creates_nothing(api, security, v1, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    text = policy('"github:read": {effect: allow}', top=f'comment: "{"x" * 5000}"\n')
    before = counts()
    response = post(api.as_user(security), text.encode())
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The request body is larger than 4096 bytes.",
        "code": "too_large",
    }
    assert counts() == before


GOOD = (
    "format: 1\n"
    'comment: "Merges need approval everywhere"\n'
    "tiers:\n"
    "  sandbox:\n"
    '    "github:merge": {effect: approval, max_duration_hours: 8}\n'
    '    "github:read": {effect: allow}\n'
    "  internal:\n"
    "  production:\n"
    '    "github:merge": {effect: approval, max_duration_hours: 2}\n'
    '    "vault:read_secret": {effect: deny}\n'
)
GOOD_RULES = {
    ("sandbox", "github:merge", "approval", 8),
    ("sandbox", "github:read", "allow", None),
    ("production", "github:merge", "approval", 2),
    ("production", "vault:read_secret", "deny", None),
}


def draft_rules(number: int) -> set[tuple]:
    return set(
        PolicyRule.objects.filter(version__number=number).values_list(
            "tier", "capability__key", "effect", "max_duration_hours"
        )
    )


def test_a_good_file_becomes_a_draft_with_exactly_its_rules(api, security, v1):
    response = post(api.as_user(security), GOOD.encode())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["number"], body["status"]) == (2, "draft")
    assert {
        (r["tier"], r["capability"], r["effect"], r["max_duration_hours"]) for r in body["rules"]
    } == GOOD_RULES
    assert draft_rules(2) == GOOD_RULES  # the published rules are not copied in
    draft = PolicyVersion.objects.get(number=2)
    assert (draft.notes, draft.created_by) == ("Merges need approval everywhere", security)
    assert len(draft_rules(1)) == 18  # v1 untouched
    assert api.as_user(security).get("/api/v1/policy/").json()["number"] == 1
    entries = LogEntry.objects.get_for_object(draft)
    assert entries.count() == 2  # the draft created, its rules imported
    assert {entry.actor for entry in entries} == {security}
    imported = entries.get(action=LogEntry.Action.UPDATE)
    assert imported.changes["rules"][1] == "4 rules imported from a file sent to the API"


def test_a_json_file_is_imported_too(api, security, v1):
    body = (
        '{\n  "format": 1,\n  "comment": "json",\n  "tiers": {\n'
        '    "production": {"github:read": {"effect": "jit", "max_duration_hours": 4}}\n  }\n}\n'
    )
    response = post(api.as_user(security), body.encode(), content_type="application/json")
    assert response.status_code == 201, response.content
    assert draft_rules(2) == {("production", "github:read", "jit", 4)}
    assert PolicyVersion.objects.get(number=2).notes == "json"


def test_a_json_file_with_an_error_names_its_line(api, security, v1):
    body = (
        '{\n  "format": 1,\n  "tiers": {\n    "production": {\n'
        '      "github:read": {"effect": "jit"},\n'
        '      "nope:nothing": {"effect": "deny"}\n    }\n  }\n}\n'
    )
    before = counts()
    response = post(api.as_user(security), body.encode(), content_type="application/json")
    assert response.status_code == 400
    assert [(e["line"], e["field"]) for e in response.json()["errors"]] == [
        (5, "tiers.production.github:read.max_duration_hours"),
        (6, "tiers.production.nope:nothing"),
    ]
    assert counts() == before


def test_an_open_draft_refuses_an_import(api, security, v1):
    client = api.as_user(security)
    assert client.post("/api/v1/policy/versions/", {}, format="json").status_code == 201
    before = counts()
    response = post(client, GOOD.encode())
    assert response.status_code == 400
    assert response.json()["code"] == "draft_exists"
    assert response.json()["detail"].startswith("Draft v2 is already open")
    assert counts() == before


@pytest.mark.parametrize("role", ["engineer", "auditor", "gateway", "norole"])
def test_only_security_imports(api, role_users, v1, role):
    before = counts()
    response = post(api.as_user(role_users[role]), GOOD.encode())
    assert response.status_code == 403
    assert response.json()["detail"] == REFUSAL
    assert counts() == before


def test_anonymous_import_is_a_401(api, v1):
    before = counts()
    assert post(api.as_user(None), GOOD.encode()).status_code == 401
    assert counts() == before


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("engineer", 200),
        ("security", 200),
        ("auditor", 200),
        ("gateway", 200),
        ("norole", 403),
        ("anonymous", 401),
    ],
)
def test_export_and_schema_are_reads(api, role_users, v1, role, status):
    client = api.as_user(None if role == "anonymous" else role_users[role])
    assert client.get("/api/v1/policy/versions/1/export/").status_code == status
    assert client.get("/api/v1/policy/schema/").status_code == status


def test_export_of_an_unknown_version_is_a_404(api, engineer, v1):
    response = api.as_user(engineer).get("/api/v1/policy/versions/99/export/")
    assert response.status_code == 404
    assert response.json()["detail"] == "No policy version 99."


def test_export_in_an_unknown_format_is_a_400(api, engineer, v1):
    response = api.as_user(engineer).get("/api/v1/policy/versions/1/export/?format=xml")
    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ["format is yaml (the default) or json."]}


# -- known bugs (see the report): these must pass once registry/policy_file.py is fixed -----------

UNCONSTRUCTIBLE = {
    "python tag": ('format: 1\ncomment: !!python/object:os.system "ls"\ntiers: {}\n', 2),
    "merge key": (
        'format: 1\ntiers:\n  sandbox: &base\n    "github:read": {effect: allow}\n'
        "  internal:\n    <<: *base\n",
        6,
    ),
    "int tag on text": ("format: !!int one\ntiers: {}\n", 1),
    "bad timestamp": ("format: 1\ncomment: !!timestamp yesterday\ntiers: {}\n", 2),
}


@pytest.mark.parametrize("case", UNCONSTRUCTIBLE)
def test_a_value_yaml_cannot_construct_is_a_400(api, security, v1, case):
    client = api.as_user(security)
    client.raise_request_exception = False
    before = counts()
    text, line = UNCONSTRUCTIBLE[case]
    response = post(client, text.encode())
    assert counts() == before
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == line


@pytest.mark.parametrize("key", ["slack:post", "github:read"])
def test_a_capability_with_no_rule_body_is_an_error(api, security, v1, key):
    before = counts()
    response = post(api.as_user(security), policy(f'"{key}":', '"github:write": {effect: deny}'))
    assert counts() == before
    assert response.status_code == 400
    assert response.json()["errors"][0]["line"] == 5
