"""Failed-login throttling for the HTML login form and `POST /api/v1/auth/token/`.

Counted per username and per client address in Django's cache (local memory in the embedded
default; shared when CACHES points at Redis). While either count is at the limit, every
attempt is refused before the password is checked, so the right password does not help a
guesser; a successful login clears the username's count.
"""

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60

_PREFIX = "login-failures"


def _username_key(username: str) -> str:
    """A digest of the name as typed (case and spaces folded): whatever was typed, the key
    is short and ASCII, as memcached needs, and Redis holds no 10 KB keys."""
    typed = username.strip().lower().encode("utf-8", "surrogatepass")
    return f"{_PREFIX}:username:{hashlib.sha256(typed).hexdigest()}"


def _keys(username: str, address: str) -> list[str]:
    keys = [f"{_PREFIX}:address:{address}"]
    return [*keys, _username_key(username)] if username else keys


def client_address(request: HttpRequest) -> str:
    # The socket's peer, not X-Forwarded-For: a client could write any address there.
    return request.META.get("REMOTE_ADDR") or "unknown"


def login_retry_after(*, username: str, address: str) -> int | None:
    """Seconds until another attempt is allowed, or None if it is allowed now."""
    now = time.time()
    waits = [
        int(until - now) + 1
        for count, until in cache.get_many(_keys(username, address)).values()
        if count >= MAX_FAILURES and until > now
    ]
    return max(waits) if waits else None


def login_failed(*, username: str, address: str) -> None:
    """Count a failure; a window starts at the first failure and lasts WINDOW_SECONDS."""
    now = time.time()
    for key in _keys(username, address):
        count, until = cache.get(key) or (0, now + WINDOW_SECONDS)
        cache.set(key, (count + 1, until), timeout=max(1, int(until - now) + 1))


def login_succeeded(*, username: str) -> None:
    cache.delete(_username_key(username))


def throttled_message(retry_after: int) -> str:
    minutes = max(1, (retry_after + 59) // 60)
    return (
        f"Too many failed logins for this account or address: try again in {minutes} "
        f"minute{'s' if minutes != 1 else ''}."
    )
