"""A collector's figures as each report format writes them: numbers as they are, moments as
UTC timestamps, and an absent value (no grant, nothing awaiting review) in words, never a raw
`None`. JSON keeps the values (null, ISO 8601); every other format reads `figure_text`."""

from datetime import UTC, datetime
from typing import Any

# What an absent figure means, in the words a reader expects; anything else absent is "none".
ABSENT = {
    "oldest_awaiting_review": "none awaiting",
    "first_decision": "no decision recorded",
    "last_decision": "no decision recorded",
    "longest_grant_hours": "no grant issued",
    "longest_lifetime_seconds": "no credential issued",
}


def figure_text(name: str, value: Any) -> str:
    if value is None:
        return ABSENT.get(name, "none")
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
    return str(value)


def figure_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return value


def figures_json(figures: dict[str, Any]) -> dict[str, Any]:
    return {name: figure_json(value) for name, value in figures.items()}


def figures_line(figures: dict[str, Any]) -> str:
    """`name=value; ...` for one CSV cell."""
    return "; ".join(f"{name}={figure_text(name, value)}" for name, value in figures.items())
