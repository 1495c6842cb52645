"""Who speaks, for which agent: a person's API token (over HTTP, the bearer token; over stdio,
PORTAL_TOKEN), checked exactly as the API checks it (expiry and roles included)."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from rest_framework.exceptions import AuthenticationFailed

from kernel.api.authentication import TokenWithRolesAuthentication

# The ASGI scope key under which the bearer-token layer leaves the authenticated person.
SCOPE_USER = "portal.user"


@dataclass(frozen=True)
class StdioSpeaker:
    """Over stdio one process speaks for one agent (`manage.py mcp --agent`), with one token."""

    token: str
    agent: str


def token_user(key: str) -> User:
    """The person whose API token this is; AuthenticationFailed says why not."""
    if not key:
        raise AuthenticationFailed("No token.")
    user, _key = TokenWithRolesAuthentication().authenticate_credentials(key)
    return user


def failure_text(error: AuthenticationFailed) -> str:
    return str(error.detail)
