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
from decisions.services.engine import DecisionResult, evaluate

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
        result.agent_slug[:200],
        result.capability_id,
        result.capability_key[:200],
        result.scope[:500],
        result.decision,
        result.reason[:500],
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
    *, agent_slug: str, capability_key: str, scope: str = "", caller: User | None
) -> tuple[DecisionResult, int]:
    """Evaluate, then commit the record; the caller answers only after this returns."""
    result = evaluate(agent_slug=agent_slug, capability_key=capability_key, scope=scope)
    return result, decision_record(result=result, caller=caller)
