"""Typed reads of environment variables: the only way settings learn about the outside world."""

import os
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}."
    )


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [part.strip() for part in raw.split(",") if part.strip()]


def env_int(
    name: str, default: int, *, low: int | None = None, high: int | None = None, unit: str = ""
) -> int:
    """A whole number from the environment; with `low` and `high`, refused outside them."""
    raw = os.environ.get(name)
    value = default
    if raw is not None and raw.strip():
        try:
            value = int(raw)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from exc
    if low is not None and high is not None and not low <= value <= high:
        of = f" of {unit}" if unit else ""
        raise ImproperlyConfigured(f"{name} must be a whole number{of} from {low} to {high}.")
    return value


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 (a port that is not a number raises ValueError)
    except ValueError:
        return False
    blank = any(character.isspace() for character in url)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not blank


def check_url(name: str, url: str) -> str:
    """`url` if it is an absolute http(s) URL, else an ImproperlyConfigured naming `name`.
    The message shows only the value's first characters: a webhook's path is often its secret."""
    if not _is_http_url(url):
        raise ImproperlyConfigured(
            f"{name} must hold absolute http(s) URLs such as https://hooks.example.com/portal; "
            f"got one that starts {url[:12]!r}."
        )
    return url


def env_url(name: str, default: str = "") -> str:
    """An absolute http(s) URL, or `default` (empty: not set)."""
    raw = os.environ.get(name, default).strip()
    return check_url(name, raw) if raw else ""


def env_url_list(name: str) -> list[str]:
    """Comma-separated absolute http(s) URLs, each checked; duplicates dropped."""
    return list(dict.fromkeys(check_url(name, url) for url in env_list(name)))
