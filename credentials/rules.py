"""When a verified subject token is an agent: the binding rule, stated once.

A binding matches a token when the provider is the binding's, `sub` equals the binding's
subject exactly, and every claim the binding names is present in the token and equals the
binding's value, or matches it as a glob when the value has `*`, `?` or `[` (case-sensitive:
`refs/heads/main` is not `refs/heads/Main`). A claim the token carries as a number or a
boolean is compared as its JSON text (`true`, `42`); a list or object never matches.
"""

import json
from fnmatch import fnmatchcase
from typing import Any

GLOB_CHARACTERS = frozenset("*?[")


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
