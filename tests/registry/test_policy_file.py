"""The policy file: canonical export, a byte-identical round trip, and the JSON Schema it obeys.

The round trip goes through the API, as a pipeline would: export a version, import the file
as a draft, export the draft; the two files are the same bytes.
"""

import json
import random

import jsonschema
import pytest
import yaml
from django.conf import settings

from registry import policy_file
from registry.models import PolicyVersion
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from tests.registry.factories import capability, demo_policy, publish_policy

pytestmark = pytest.mark.django_db

EXPORT = "/api/v1/policy/versions/{}/export/"
IMPORT = "/api/v1/policy/versions/import/"
TIERS = ["sandbox", "internal", "production"]
# Quotes, a YAML comment marker, newlines, tabs, non-ASCII (accents, CJK, an emoji) and control
# characters (C0, DEL, C1 incl. NEL, the Unicode line separator): each must read back exactly.
AWKWARD_COMMENT = (
    "Tighten \"merge\" for the 'audit' # not a YAML comment: {x}\n"
    "second line\r\n\tindented — Grüße, 東京, 😀\n"
    "controls: \x01\x07\x1b\x7f\x85\u2028 end "
)


def export(client, number: int, fmt: str) -> bytes:
    response = client.get(EXPORT.format(number), {"format": fmt})
    assert response.status_code == 200, response.content
    return response.content


def import_file(client, body: bytes, fmt: str) -> dict:
    content_type = "application/json" if fmt == "json" else "application/yaml"
    response = client.post(IMPORT, data=body, content_type=content_type)
    assert response.status_code == 201, response.content
    return response.json()


def with_notes(version: PolicyVersion, notes: str) -> PolicyVersion:
    version.notes = notes
    version.save(update_fields=["notes"])
    return version


def random_rules(seed: int) -> dict[str, dict[str, tuple[str, int | None]]]:
    """A random policy over a dozen capabilities: every effect, hours from 1 to the maximum,
    and some (tier, capability) pairs left without a rule."""
    rng = random.Random(seed)
    keys = [f"tool-{rng.randrange(100)}:act_{n}" for n in range(12)]
    rules: dict[str, dict[str, tuple[str, int | None]]] = {tier: {} for tier in TIERS}
    for tier in TIERS:
        for key in rng.sample(keys, rng.randrange(4, len(keys))):
            effect = rng.choice(["allow", "jit", "approval", "deny"])
            timed = effect in ("jit", "approval")
            hours = rng.randint(1, settings.POLICY_MAX_DURATION_HOURS) if timed else None
            rules[tier][key] = (effect, hours)
    return rules


def rule_set(version_body: dict) -> set[tuple]:
    return {
        (r["tier"], r["capability"], r["effect"], r["max_duration_hours"])
        for r in version_body["rules"]
    }


@pytest.mark.parametrize("fmt", ["yaml", "json"])
@pytest.mark.parametrize("comment", ["", "Demo policy", AWKWARD_COMMENT])
def test_export_import_export_is_byte_identical(api, security, fmt, comment):
    with_notes(demo_policy(security), comment)
    client = api.as_user(security)
    first = export(client, 1, fmt)
    draft = import_file(client, first, fmt)
    assert (draft["number"], draft["status"]) == (2, "draft")
    assert PolicyVersion.objects.get(number=2).notes == comment
    assert export(client, 2, fmt) == first


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_a_random_policy_round_trips_byte_identical(api, security, fmt):
    rules = random_rules(seed=20240514)
    with_notes(publish_policy(rules, security), AWKWARD_COMMENT)
    client = api.as_user(security)
    first = export(client, 1, fmt)
    draft = import_file(client, first, fmt)
    expected = {
        (tier, key, effect, hours)
        for tier, tier_rules in rules.items()
        for key, (effect, hours) in tier_rules.items()
    }
    assert rule_set(draft) == expected
    assert export(client, 2, fmt) == first


def test_yaml_and_json_exports_hold_the_same_policy(api, auditor, security):
    with_notes(publish_policy(random_rules(seed=7), security), AWKWARD_COMMENT)
    client = api.as_user(auditor)  # exporting is a read: auditors export too
    from_yaml = yaml.safe_load(export(client, 1, "yaml").decode())
    from_json = json.loads(export(client, 1, "json"))
    assert from_yaml == from_json
    assert from_json["comment"] == AWKWARD_COMMENT


def test_the_export_is_canonical(api, security):
    # Rules created out of order, only in production and sandbox: the file lists every tier in
    # the order sandbox, internal, production, and each tier's capabilities sorted.
    unordered = {
        "production": {
            "zeta:go": ("deny", None),
            "alpha:go": ("jit", 2),
            "mid:go": ("allow", None),
        },
        "sandbox": {"mid:go": ("approval", 8), "alpha:go": ("allow", None)},
    }
    publish_policy(unordered, security)
    reordered = {tier: dict(reversed(rules.items())) for tier, rules in unordered.items()}
    publish_policy(dict(reversed(reordered.items())), security)
    client = api.as_user(security)
    assert export(client, 1, "yaml") == export(client, 2, "yaml")
    assert export(client, 1, "json") == export(client, 2, "json")
    text = export(client, 1, "yaml").decode()
    assert text == (
        "# Agent Governance Portal tier policy. JSON Schema: /api/v1/policy/schema/\n"
        "format: 1\n"
        'comment: ""\n'
        "tiers:\n"
        "  sandbox:\n"
        '    "alpha:go": {effect: allow}\n'
        '    "mid:go": {effect: approval, max_duration_hours: 8}\n'
        "  internal: {}\n"
        "  production:\n"
        '    "alpha:go": {effect: jit, max_duration_hours: 2}\n'
        '    "mid:go": {effect: allow}\n'
        '    "zeta:go": {effect: deny}\n'
    )
    tiers = json.loads(export(client, 1, "json"))["tiers"]
    assert list(tiers) == TIERS
    assert tiers["internal"] == {}
    assert list(tiers["production"]) == ["alpha:go", "mid:go", "zeta:go"]


def test_the_export_is_named_for_its_version(api, engineer, security):
    demo_policy(security)
    response = api.as_user(engineer).get(EXPORT.format(1), {"format": "json"})
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == 'inline; filename="policy-v1.json"'
    yaml_response = api.as_user(engineer).get(EXPORT.format(1))
    assert yaml_response["Content-Type"] == "application/yaml; charset=utf-8"
    assert 'filename="policy-v1.yaml"' in yaml_response["Content-Disposition"]


# -- the JSON Schema ---------------------------------------------------------------------------


@pytest.fixture
def schema(api, auditor):
    response = api.as_user(auditor).get("/api/v1/policy/schema/")
    assert response.status_code == 200
    body = response.json()
    jsonschema.Draft202012Validator.check_schema(body)
    return body


def schema_errors(schema: dict, document: object) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [error.message for error in validator.iter_errors(document)]


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_every_export_validates_against_the_served_schema(api, security, schema, fmt):
    demo_policy(security)
    publish_policy(random_rules(seed=99), security)
    client = api.as_user(security)
    for number in (1, 2):
        document = yaml.safe_load(export(client, number, fmt).decode())
        assert schema_errors(schema, document) == []


def test_the_schema_carries_the_configured_maximum_duration(schema, settings):
    rule = schema["$defs"]["rule"]["properties"]
    assert rule["max_duration_hours"]["maximum"] == settings.POLICY_MAX_DURATION_HOURS
    assert rule["effect"]["enum"] == ["allow", "jit", "approval", "deny"]
    assert list(schema["properties"]["tiers"]["properties"]) == TIERS


def doc(rules: dict, **top) -> dict:
    return {"format": 1, "comment": "", "tiers": {"sandbox": rules}, **top}


LIMIT = settings.POLICY_MAX_DURATION_HOURS
SCHEMA_REFUSES = {
    "unknown tier": {"format": 1, "tiers": {"galaxy": {}}},
    "jit without hours": doc({"github:read": {"effect": "jit"}}),
    "approval without hours": doc({"github:read": {"effect": "approval"}}),
    "hours above the maximum": doc(
        {"github:read": {"effect": "jit", "max_duration_hours": LIMIT + 1}}
    ),
    "zero hours": doc({"github:read": {"effect": "jit", "max_duration_hours": 0}}),
    "hours on allow": doc({"github:read": {"effect": "allow", "max_duration_hours": 4}}),
    "hours as text": doc({"github:read": {"effect": "jit", "max_duration_hours": "8"}}),
    "hours as a fraction": doc({"github:read": {"effect": "jit", "max_duration_hours": 1.5}}),
    "unknown effect": doc({"github:read": {"effect": "sometimes"}}),
    "no effect": doc({"github:read": {}}),
    "unknown rule field": doc({"github:read": {"effect": "deny", "expires": "soon"}}),
    "unknown top field": doc({}, owner="sec"),
    "capability not tool:action": doc({"github merge": {"effect": "deny"}}),
    "format 2": doc({}, format=2),
    "comment not text": doc({}, comment=["a"]),
    "comment too long": doc({}, comment="x" * (POLICY_TEXT_MAX_LENGTH + 1)),
    "no tiers": {"format": 1},
    "no format": {"tiers": {}},
    "a tier that is a list": {"format": 1, "tiers": {"sandbox": ["github:read"]}},
}


@pytest.mark.parametrize("case", SCHEMA_REFUSES)
def test_the_schema_and_the_importer_refuse_the_same_bad_files(schema, case):
    capability("github:read")
    document = SCHEMA_REFUSES[case]
    assert schema_errors(schema, document), f"the schema accepts {case}"
    with pytest.raises(policy_file.PolicyFileInvalid):
        policy_file.parse(json.dumps(document, indent=2), capabilities={"github:read"})


def test_what_only_the_catalogue_knows_passes_the_schema_and_fails_the_import(schema):
    # A well-formed capability the catalogue lacks, and a duplicate key (a YAML or JSON reader
    # keeps the last one silently): the schema cannot tell; the import refuses both, by line.
    text = (
        "format: 1\n"
        "tiers:\n"
        "  sandbox:\n"
        '    "github:read": {effect: allow}\n'
        '    "slack:post": {effect: allow}\n'
        '    "github:read": {effect: deny}\n'
    )
    assert schema_errors(schema, yaml.safe_load(text)) == []
    with pytest.raises(policy_file.PolicyFileInvalid) as refused:
        policy_file.parse(text, capabilities={"github:read"})
    assert [(e.line, e.field) for e in refused.value.errors] == [
        (5, "tiers.sandbox.slack:post"),
        (6, "tiers.sandbox.github:read"),
    ]
    assert "duplicate key (first on line 4)" in refused.value.errors[1].message


@pytest.mark.parametrize("fmt", ["yaml", "json"])
def test_notes_longer_than_a_comment_may_be_are_cut_so_the_export_imports_again(
    api, security, schema, fmt
):
    """Notes saved before they were limited: the file holds what a comment may hold."""
    notes = "n" * POLICY_TEXT_MAX_LENGTH + " and the rest"
    with_notes(demo_policy(security), notes)
    client = api.as_user(security)
    first = export(client, 1, fmt)
    body = json.loads(first) if fmt == "json" else yaml.safe_load(first)
    assert body["comment"] == "n" * POLICY_TEXT_MAX_LENGTH
    assert schema_errors(schema, body) == []
    import_file(client, first, fmt)
    assert PolicyVersion.objects.get(number=2).notes == "n" * POLICY_TEXT_MAX_LENGTH
    assert export(client, 2, fmt) == first
