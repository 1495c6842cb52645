"""Recording decisions: synchronously, in the request, before the answer leaves.

Measured (README, bench/decisions.py): one prepared INSERT costs a small share of the
request, so batching would buy little and cost the guarantee. The guarantee is the simplest
one: a decision that was answered has been committed to the database (autocommit); a
process killed after answering loses nothing, and one killed before committing answered
nothing.
"""

from functools import cache

from django.contrib.auth.models import User
from django.db import connection

from decisions.models import Decision
from decisions.selectors import DecisionFacts
from decisions.services.engine import DecisionResult, decide, read_facts
from kernel.api.authentication import TOKEN_EXPIRED, with_roles
from kernel.errors import Forbidden, NotAuthenticated
from kernel.permissions import Action, can, refusal

_COLUMNS = (
    "request_id",
    "agent_id",
    "agent_slug",
    "capability_id",
    "capability_key",
    "scope",
    "decision",
    "reason",
    "policy_version",
    "grant_id",
    "exception_id",
    "caller_id",
    "decided_at",
)


# Free text is cut to its column's length (read from the model, so the limit is stated once).
_FITS = {
    name: Decision._meta.get_field(name).max_length  # type: ignore[union-attr]
    for name in ("agent_slug", "capability_key", "scope", "reason")
}


@cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    return (
        f"INSERT INTO {quote(Decision._meta.db_table)} ({columns}) "
        f"VALUES ({marks}) RETURNING {quote('id')}"
    )


def decision_record(*, result: DecisionResult, caller: User | None) -> int:
    """INSERT the decision (one prepared statement, autocommit); returns its id."""
    caller_id = caller.pk if caller is not None and caller.is_authenticated else None
    fields = Decision._meta
    values = [
        fields.get_field("request_id").get_db_prep_value(result.request_id, connection),
        result.agent_id,
        result.agent_slug[: _FITS["agent_slug"]],
        result.capability_id,
        result.capability_key[: _FITS["capability_key"]],
        result.scope[: _FITS["scope"]],
        result.decision,
        result.reason[: _FITS["reason"]],
        result.policy_version,
        result.grant_id,
        result.exception_id,
        caller_id,
        fields.get_field("decided_at").get_db_prep_value(result.decided_at, connection),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), values)
        return cursor.fetchone()[0]


def decide_and_record(
    *,
    agent_slug: str,
    capability_key: str,
    scope: str = "",
    caller: User | None = None,
    token: str | None = None,
) -> tuple[DecisionResult, int]:
    """The one decision orchestrator: read the facts (one round trip), decide, commit the
    record; the caller answers only after this returns.

    Given `token` instead of `caller` (a gateway's fast path), the same round trip reads who
    asks, and they are checked before anything is decided or recorded; a session caller was
    checked by the view."""
    facts, capability = read_facts(
        agent_slug=agent_slug, capability_key=capability_key, token=token
    )
    if token is not None:
        caller = _token_caller(facts)
    result = decide(
        facts, capability, agent_slug=agent_slug, capability_key=capability_key, scope=scope
    )
    return result, decision_record(result=result, caller=caller)


def _token_caller(facts: DecisionFacts) -> User:
    if facts.caller is None:
        raise NotAuthenticated("Invalid token.")
    pk, is_active, is_superuser = facts.caller
    if not is_active:
        raise NotAuthenticated("User inactive or deleted.")
    if facts.token_expired:
        raise NotAuthenticated(TOKEN_EXPIRED)
    caller = with_roles(User(pk=pk, is_active=True, is_superuser=is_superuser), facts.caller_groups)
    if not can(caller, Action.CALL_DECISION_API):
        raise Forbidden(refusal(Action.CALL_DECISION_API))
    return caller
