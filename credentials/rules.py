"""When a verified subject token is an agent: the binding rule, stated once.

A binding matches a token when the provider is the binding's, `sub` equals the binding's
subject exactly, and every claim the binding names is present in the token and equals the
binding's value, or matches it as a glob when the value has `*`, `?` or `[` (case-sensitive:
`refs/heads/main` is not `refs/heads/Main`). A claim the token carries as a number or a
boolean is compared as its JSON text (`true`, `42`); a list or object never matches.

A binding takes effect only once it has the security approvals its agent's tier asks
(`required_approvals_for`): one on production, none elsewhere.
"""

import json
from fnmatch import fnmatchcase
from typing import Any

from credentials.limits import OVERLAP_STATES_MAX
from registry.models import Agent, Tier

GLOB_CHARACTERS = frozenset("*?[")


def required_approvals_for(agent: Agent) -> int:
    """Security approves a binding on a production agent (0: active when added)."""
    return 1 if agent.tier == Tier.PRODUCTION else 0


def claim_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None


def claim_matches(expected: str, actual: Any) -> bool:
    text = claim_text(actual)
    if text is None:
        return False
    if GLOB_CHARACTERS & set(expected):
        return fnmatchcase(text, expected)
    return text == expected


def binding_matches(constraints: dict[str, str], claims: dict[str, Any]) -> bool:
    return all(
        name in claims and claim_matches(expected, claims[name])
        for name, expected in constraints.items()
    )


def unmet_constraints(constraints: dict[str, str], claims: dict[str, Any]) -> list[str]:
    """The names of the constraints the token does not meet (for the refusal message)."""
    return [
        name
        for name, expected in sorted(constraints.items())
        if name not in claims or not claim_matches(expected, claims[name])
    ]


# Whether two bindings could match one token: the rule that keeps a subject to one agent.
# A constraint is a language of claim texts (one value, or a glob's); two bindings of one
# provider and subject overlap unless some claim both constrain has no text meeting both.

_STAR = ("*", "")


def _glob_tokens(pattern: str) -> list[tuple[str, str]]:
    """The pattern as fnmatch reads it: ("*", ""), ("?", ""), ("[", class) or ("=", char)."""
    if not GLOB_CHARACTERS & set(pattern):
        return [("=", ch) for ch in pattern]
    tokens: list[tuple[str, str]] = []
    i, n = 0, len(pattern)
    while i < n:
        ch, i = pattern[i], i + 1
        if ch == "*":
            if tokens[-1:] != [_STAR]:
                tokens.append(_STAR)
        elif ch == "?":
            tokens.append(("?", ""))
        elif ch == "[":
            j = i + (i < n and pattern[i] == "!")
            j += j < n and pattern[j] == "]"
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                tokens.append(("=", "["))  # no closing bracket: a literal, as fnmatch has it
            else:
                tokens.append(("[", pattern[i - 1 : j + 1]))
                i = j + 1
        else:
            tokens.append(("=", ch))
    return tokens


def _accepts(token: tuple[str, str], ch: str) -> bool:
    kind, text = token
    if kind == "=":
        return ch == text
    return kind != "[" or fnmatchcase(ch, text)


def _one_char_meets_both(a: tuple[str, str], b: tuple[str, str]) -> bool:
    """Whether some character meets both. A class's members are runs between characters it
    names, so trying each named character, the one after it, and NUL decides it."""
    named = {ch for token in (a, b) for ch in token[1]}
    candidates = {"\x00", "a"} | named | {chr(ord(ch) + 1) for ch in named if ord(ch) < 0x10FFFF}
    return any(_accepts(a, ch) and _accepts(b, ch) for ch in candidates)


def constraints_intersect(first: str, second: str) -> bool:
    """Whether some claim text meets both constraints (values or globs): a walk of both
    patterns at once, a `*` matching nothing or one more character. Past OVERLAP_STATES_MAX
    steps it answers True (they may overlap), which refuses the binding: the safe side."""
    a, b = _glob_tokens(first), _glob_tokens(second)
    seen: set[tuple[int, int]] = set()
    todo = [(0, 0)]
    while todo:
        i, j = todo.pop()
        if (i, j) in seen:
            continue
        if len(seen) >= OVERLAP_STATES_MAX:
            return True
        seen.add((i, j))
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] == _STAR:
            todo.append((i + 1, j))
        if j < len(b) and b[j] == _STAR:
            todo.append((i, j + 1))
        if i < len(a) and j < len(b) and _one_char_meets_both(a[i], b[j]):
            todo.append((i + (a[i] != _STAR), j + (b[j] != _STAR)))
    return False


def bindings_overlap(first: dict[str, str], second: dict[str, str]) -> bool:
    """Whether a token could meet the claim constraints of both bindings (same provider and
    subject): unless a claim both name has no value meeting both. A binding without
    constraints overlaps every other; `ref=refs/heads/main` and `ref=refs/heads/dev` do not."""
    return all(constraints_intersect(first[name], second[name]) for name in first.keys() & second)
