"""Who is calling the MCP server, and as whom the agent speaks.

- A **person** (`Person`): their portal API token (over HTTP the bearer token; over stdio
  PORTAL_TOKEN), checked exactly as the API checks it (expiry and roles included). The agent
  acts for its owner: the person speaks for agents they run (agent_mcp.permissions).
- A **workload** (`Workload`): the agent acting as itself. Its bearer token is the subject
  token its platform issued (a JWT: GitHub Actions, Kubernetes...), verified exactly as the
  token exchange verifies it and bound to one agent by its identity binding
  (credentials.services.exchange.workload_binding); it speaks only for that agent.
"""

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed

from credentials.services.exchange import ExchangeError, workload_binding
from kernel.api.authentication import TokenWithRolesAuthentication

# The ASGI scope key under which the bearer-token layer leaves the authenticated caller.
SCOPE_CALLER = "portal.caller"


@dataclass(frozen=True)
class Person:
    user: User


@dataclass(frozen=True)
class Workload:
    """The agent acting as itself: which agent, who it authenticated as (trust provider and
    subject, shown on what it files), and the subject token (the one get_credential
    exchanges; never shown)."""

    agent_id: int
    agent_slug: str
    identity: str
    subject_token: str = field(repr=False)


Caller = Person | Workload


class Unauthenticated(Exception):
    """The bearer token names nobody the portal accepts: `status` 401, or 503 when the
    workload's trust provider cannot be asked now. The message says why."""

    def __init__(self, message: str, status: int = 401) -> None:
        super().__init__(message)
        self.message, self.status = message, status


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


def is_subject_token(key: str) -> bool:
    """A JWT (header.claims.signature): a workload's subject token. API tokens have no dot."""
    return key.count(".") == 2


def authenticate(key: str) -> Caller:
    """The caller a bearer token names, or Unauthenticated."""
    if is_subject_token(key):
        return workload(key)
    try:
        return Person(token_user(key))
    except AuthenticationFailed as error:
        raise Unauthenticated(failure_text(error)) from None


def workload(subject_token: str) -> Workload:
    """The agent a workload's subject token is bound to, verified as the exchange verifies it
    (a genuine token that is refused is recorded for security, as the exchange records it)."""
    try:
        verified, binding = workload_binding(subject_token, now=timezone.now())
    except ExchangeError as error:
        raise Unauthenticated(error.description, status=error.status) from None
    return Workload(
        agent_id=binding.agent_id,
        agent_slug=binding.agent.slug,
        identity=verified.workload,
        subject_token=subject_token,
    )


def person_of(caller: Caller) -> User | None:
    """The person behind the call, None for an agent acting as itself."""
    return caller.user if isinstance(caller, Person) else None


def workload_of(caller: Caller) -> str:
    """The workload identity of an agent acting as itself, "" for a person."""
    return caller.identity if isinstance(caller, Workload) else ""
