"""The policy as a file: a version's rules as YAML or JSON, for review in pull requests.

    format: 1
    comment: "why this version"
    tiers:
      sandbox:
        "github:merge": {effect: jit, max_duration_hours: 8}
      internal: {}
      production:
        "github:merge": {effect: approval, max_duration_hours: 4}

Tiers → capability (`tool:action`) → `{effect, max_duration_hours}`; no rule means deny. The
export is canonical (tiers in the order sandbox, internal, production, each listed; capabilities
sorted; one spelling for every value), so export → import → export is byte-identical. Parsing
reports every error with its line and field and keeps nothing of a file with an error; the
shape of a rule is checked by `registry.policy_rules.validate_rule`, as in the editor.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from django.conf import settings

from kernel.errors import ApplicationError
from registry.models import Effect, PolicyVersion, Tier
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from registry.policy_rules import Rule, RuleMap, validate_rule
from registry.selectors.policy import policy_rule_map

FORMAT = 1
HEADER = "# Agent Governance Portal tier policy. JSON Schema: /api/v1/policy/schema/\n"
CAPABILITY_PATTERN = r"^[a-z0-9]+(?:[-_][a-z0-9]+)*:[a-z0-9]+(?:[-_][a-z0-9]+)*$"
RULE_FIELDS = ("effect", "max_duration_hours")
TOP_FIELDS = ("format", "comment", "tiers")
# What YAML may not hold raw in a double-quoted scalar, or would read as a line break.
_UNSAFE_IN_YAML = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(frozen=True)
class PolicyDocument:
    comment: str = ""
    rules: RuleMap = field(default_factory=dict)


@dataclass(frozen=True)
class FileError:
    line: int | None
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.field or 'file'}: {self.message}"


class PolicyFileInvalid(ApplicationError):
    """The file is not a valid policy; nothing was created. Carries every error found."""

    def __init__(self, errors: list[FileError]) -> None:
        count = f"{len(errors)} errors" if len(errors) != 1 else "an error"
        super().__init__(
            f"The policy file has {count}; nothing was created. First: {errors[0]}",
            code="policy_file_invalid",
            errors=[error.as_dict() for error in errors],
        )
        self.errors = errors


# -- export ---------------------------------------------------------------------------------


def document_of(version: PolicyVersion) -> PolicyDocument:
    """The version as a file. Notes saved before they were limited may be longer than a
    comment may be: the file keeps the first POLICY_TEXT_MAX_LENGTH characters, so that every
    export imports again."""
    comment = version.notes[:POLICY_TEXT_MAX_LENGTH]
    return PolicyDocument(comment=comment, rules=policy_rule_map(version))


def _tiers(document: PolicyDocument) -> dict[str, dict[str, dict[str, Any]]]:
    tiers: dict[str, dict[str, dict[str, Any]]] = {tier: {} for tier in Tier.values}
    for (tier, key), (effect, hours) in sorted(document.rules.items(), key=lambda i: i[0][1]):
        tiers[tier][key] = {"effect": effect, **({"max_duration_hours": hours} if hours else {})}
    return tiers


def _quoted(text: str) -> str:
    """A YAML double-quoted scalar (JSON's escapes are YAML's) that reads back exactly."""
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def to_yaml(document: PolicyDocument) -> str:
    lines = [HEADER.rstrip("\n"), f"format: {FORMAT}", f"comment: {_quoted(document.comment)}"]
    lines.append("tiers:")
    for tier, rules in _tiers(document).items():
        if not rules:
            lines.append(f"  {tier}: {{}}")
            continue
        lines.append(f"  {tier}:")
        for key, rule in rules.items():
            body = ", ".join(f"{name}: {value}" for name, value in rule.items())
            lines.append(f"    {_quoted(key)}: {{{body}}}")
    return "\n".join(lines) + "\n"


def to_json(document: PolicyDocument) -> str:
    body = {"format": FORMAT, "comment": document.comment, "tiers": _tiers(document)}
    text = json.dumps(body, indent=2, ensure_ascii=False)
    return _UNSAFE_IN_YAML.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"


def json_schema() -> dict[str, Any]:
    """The file format as JSON Schema (2020-12). Which capabilities exist is the catalogue's
    to say: a well-formed key that is not in it is refused on import."""
    limit = settings.POLICY_MAX_DURATION_HOURS
    time_boxed = [Effect.JIT.value, Effect.APPROVAL.value]
    rule = {
        "type": "object",
        "required": ["effect"],
        "additionalProperties": False,
        "properties": {
            "effect": {"enum": list(Effect.values)},
            "max_duration_hours": {"type": "integer", "minimum": 1, "maximum": limit},
        },
        "if": {"properties": {"effect": {"enum": time_boxed}}},
        "then": {"required": ["max_duration_hours"]},
        "else": {"not": {"required": ["max_duration_hours"]}},
    }
    tier = {
        "type": ["object", "null"],
        "propertyNames": {"pattern": CAPABILITY_PATTERN},
        "additionalProperties": {"$ref": "#/$defs/rule"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Agent Governance Portal tier policy",
        "description": "Tiers → capability (tool:action) → rule. No rule means deny.",
        "type": "object",
        "required": ["format", "tiers"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": FORMAT},
            "comment": {"type": "string", "maxLength": POLICY_TEXT_MAX_LENGTH},
            "tiers": {
                "type": "object",
                "additionalProperties": False,
                "properties": {name: {"$ref": "#/$defs/tier"} for name in Tier.values},
            },
        },
        "$defs": {"tier": tier, "rule": rule},
    }


# -- import ---------------------------------------------------------------------------------

_constructor = yaml.SafeLoader("")
# Plain values only: no anchors merged in (`<<`), no timestamps, binaries or language tags.
_PLAIN = frozenset(f"tag:yaml.org,2002:{name}" for name in ("str", "int", "bool", "null", "float"))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar(node: yaml.Node) -> Any:
    """A plain value (`_unreadable` has checked every scalar of the file can be read)."""
    if not isinstance(node, yaml.ScalarNode):
        return node  # a mapping or list where a value belongs: the caller says so
    return _constructor.construct_object(node, deep=True)


def _unreadable(root: yaml.Node) -> list[FileError]:
    """Scalars that are not plain values, or do not read as their tag says, by line."""
    errors, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif node.tag not in _PLAIN:
            errors.append(FileError(_line(node), "", f"'{node.tag}' values are not allowed."))
        else:
            try:
                _constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, TypeError, AttributeError):
                message = f"'{str(node.value)[:40]}' is not a valid {node.tag.rsplit(':', 1)[1]}."
                errors.append(FileError(_line(node), "", message))
    return errors


def _is_format(value: Any) -> bool:
    return type(value) is int and value == FORMAT  # not True, which equals 1


class _Reader:
    """Walks the composed YAML (nodes keep their line) and collects every error."""

    def __init__(self, capabilities: set[str]) -> None:
        self.capabilities = capabilities
        self.errors: list[FileError] = []

    def error(self, node: yaml.Node | None, where: str, message: str) -> None:
        self.errors.append(FileError(_line(node) if node else None, where, message))

    def mapping(self, node: yaml.Node, where: str, allowed=None) -> list[tuple[str, yaml.Node]]:
        """A mapping's (key, value node) pairs; duplicates and unknown keys are errors."""
        if isinstance(node, yaml.ScalarNode) and _scalar(node) is None:
            return []  # `sandbox:` with nothing under it: no rules
        if not isinstance(node, yaml.MappingNode):
            self.error(node, where, "must be a mapping of names to values.")
            return []
        pairs: list[tuple[str, yaml.Node]] = []
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node)
            name = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str):
                self.error(key_node, name, "keys must be text.")
            elif key in seen:
                self.error(key_node, name, f"duplicate key (first on line {seen[key]}).")
            elif allowed is not None and key not in allowed:
                self.error(key_node, name, f"unknown field; use {', '.join(allowed)}.")
            else:
                seen[key] = _line(key_node)
                pairs.append((key, value_node))
        return pairs

    def rule(self, node: yaml.Node, tier: str, key: str, where: str) -> Rule | None:
        if not isinstance(node, yaml.MappingNode):
            self.error(node, where, "must be a mapping like {effect: deny}.")
            return None
        values = {name: _scalar(value) for name, value in self.mapping(node, where, RULE_FIELDS)}
        effect, hours = values.get("effect"), values.get("max_duration_hours")
        if "effect" not in values:
            self.error(node, f"{where}.effect", "is required.")
            return None
        if not isinstance(effect, str):
            self.error(node, f"{where}.effect", f"must be one of {', '.join(Effect.values)}.")
            return None
        if hours is not None and (isinstance(hours, bool) or not isinstance(hours, int)):
            self.error(node, f"{where}.max_duration_hours", "must be a whole number of hours.")
            return None
        try:
            validate_rule(tier=tier, effect=effect, max_duration_hours=hours)
        except ApplicationError as exc:
            self.error(node, f"{where}.{exc.field or 'effect'}", exc.message)
            return None
        if key not in self.capabilities:
            self.error(node, where, f"unknown capability '{key}': add it to the catalogue first.")
            return None
        return (effect, hours)

    def document(self, root: yaml.Node | None) -> PolicyDocument:
        if root is None or (isinstance(root, yaml.ScalarNode) and _scalar(root) is None):
            self.error(root, "", "the file is empty: it needs format and tiers.")
            return PolicyDocument()
        if not isinstance(root, yaml.MappingNode):
            self.error(root, "", "must be a mapping with format, comment and tiers.")
            return PolicyDocument()
        top = dict(self.mapping(root, "", TOP_FIELDS))
        for required in ("format", "tiers"):
            if required not in top:
                self.error(root, required, "is required.")
        if "format" in top and not _is_format(_scalar(top["format"])):
            self.error(top["format"], "format", f"must be {FORMAT}.")
        comment = _scalar(top["comment"]) if "comment" in top else ""
        if comment is None:
            comment = ""
        if not isinstance(comment, str) or "\x00" in comment:
            self.error(top["comment"], "comment", "must be text (no NUL characters).")
            comment = ""
        elif len(comment) > POLICY_TEXT_MAX_LENGTH:
            self.error(
                top["comment"], "comment", f"is at most {POLICY_TEXT_MAX_LENGTH} characters."
            )
            comment = ""
        rules: RuleMap = {}
        tiers = self.mapping(top["tiers"], "tiers", Tier.values) if "tiers" in top else []
        for tier, tier_node in tiers:
            for key, rule_node in self.mapping(tier_node, f"tiers.{tier}"):
                rule = self.rule(rule_node, tier, key, f"tiers.{tier}.{key}")
                if rule is not None:
                    rules[(tier, key)] = rule
        return PolicyDocument(comment=comment, rules=rules)


def parse(text: str, *, capabilities: set[str]) -> PolicyDocument:
    """A policy file (YAML, or JSON: JSON is YAML) checked against the catalogue's
    capabilities; PolicyFileInvalid with every error and its line otherwise."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PolicyFileInvalid([FileError(line, "", f"not valid YAML: {exc.problem}.")]) from None
    except yaml.YAMLError as exc:
        raise PolicyFileInvalid([FileError(None, "", f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise PolicyFileInvalid([FileError(None, "", "nests too deeply.")]) from None
    if root is not None and (unreadable := _unreadable(root)):
        raise PolicyFileInvalid(sorted(unreadable, key=lambda error: error.line or 0))
    reader = _Reader(capabilities)
    document = reader.document(root)
    if reader.errors:
        raise PolicyFileInvalid(sorted(reader.errors, key=lambda error: error.line or 0))
    return document
