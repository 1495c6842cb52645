"""Recording decisions: synchronously, in the request, before the answer leaves.

Measured (README, bench/decisions.py): one prepared INSERT costs a small share of the
request, so batching would buy little and cost the guarantee. The guarantee is the simplest
one: a decision that was answered has been committed to the database (autocommit); a
process killed after answering loses nothing, and one killed before committing answered
nothing.

On PostgreSQL the log is partitioned by month: every insert here runs through
`partitions.insert_covered`, which makes a missing month's partition and runs it once more
(a decision is never refused for want of a partition; the usual insert costs nothing more).
"""

import uuid
from functools import cache

from django.contrib.auth.models import User
from django.db import connection, transaction

from decisions.models import Decision
from decisions.partitions import DECISIONS, insert_covered
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
    "caller_workload",
    "decided_at",
    "credential_jti",
)


# Free text is cut to its column's length (read from the model, so the limit is stated once).
_FITS = {
    name: Decision._meta.get_field(name).max_length  # type: ignore[union-attr]
    for name in ("agent_slug", "capability_key", "scope", "reason", "caller_workload")
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


def _values(
    result: DecisionResult, caller_id: int | None, workload: str, credential_jti: str
) -> list:
    fields = Decision._meta
    return [
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
        workload[: _FITS["caller_workload"]],
        fields.get_field("decided_at").get_db_prep_value(result.decided_at, connection),
        credential_jti,
    ]


def decision_record(
    *, result: DecisionResult, caller: User | None, workload: str = "", credential_jti: str = ""
) -> int:
    """INSERT the decision (one prepared statement, autocommit); returns its id. `caller` is
    the person who asked; `workload`, the identity of an agent that asked as itself."""
    caller_id = caller.pk if caller is not None and caller.is_authenticated else None
    values = _values(result, caller_id, workload, credential_jti)

    def insert() -> int:
        with connection.cursor() as cursor:
            cursor.execute(_insert_sql(connection.vendor), values)
            return cursor.fetchone()[0]

    return insert_covered(DECISIONS, [result.decided_at], insert)


def _insert_many(
    results: list[DecisionResult], caller_id: int | None, workload: str, credential_jti: str
) -> tuple[str, list]:
    """One INSERT of every result (a multi-row VALUES), and its parameters."""
    quote = connection.ops.quote_name
    rows = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(results))
    columns = ", ".join(quote(column) for column in _COLUMNS)
    insert = f"INSERT INTO {quote(Decision._meta.db_table)} ({columns}) VALUES {rows}"
    values = [v for result in results for v in _values(result, caller_id, workload, credential_jti)]
    return insert, values


def record_many(results: list[DecisionResult], *, caller: User | None) -> list[int]:
    """Commit a batch's decisions in one statement (autocommit: all or none, durable before
    the caller answers); their ids, in the order of `results`."""
    caller_id = caller.pk if caller is not None and caller.is_authenticated else None
    insert, values = _insert_many(results, caller_id, "", "")
    quote = connection.ops.quote_name

    def run() -> dict[uuid.UUID, int]:
        with connection.cursor() as cursor:
            cursor.execute(f"{insert} RETURNING {quote('id')}, {quote('request_id')}", values)
            return {uuid.UUID(str(request_id)): pk for pk, request_id in cursor.fetchall()}

    ids = insert_covered(DECISIONS, [result.decided_at for result in results], run)
    return [ids[result.request_id] for result in results]


def record_with(
    results: list[DecisionResult],
    *,
    workload: str,
    credential_jti: str,
    then: tuple[str, list] | None = None,
) -> int | None:
    """Commit a token exchange's decisions, asked by `workload`, and, in the same statement,
    `then` (an INSERT … RETURNING id, e.g. the credential they allowed); returns `then`'s id.

    One statement on PostgreSQL (a data-modifying WITH: both rows or neither, committed
    before the caller answers); on SQLite, which has no such WITH, one statement each in
    one transaction."""
    insert, values = _insert_many(results, None, workload, credential_jti)

    def run() -> int | None:
        with connection.cursor() as cursor:
            if then is None:
                cursor.execute(insert, values)
                return None
            if connection.vendor == "postgresql":
                cursor.execute(f"WITH recorded AS ({insert}) {then[0]}", [*values, *then[1]])
                return cursor.fetchone()[0]
            with transaction.atomic():
                cursor.execute(insert, values)
                cursor.execute(*then)
                return cursor.fetchone()[0]

    return insert_covered(DECISIONS, [result.decided_at for result in results], run)


def decide_and_record(
    *,
    agent_slug: str,
    capability_key: str,
    scope: str = "",
    caller: User | None = None,
    workload: str = "",
    token: str | None = None,
    credential_jti: str = "",
) -> tuple[DecisionResult, int]:
    """The one decision orchestrator: read the facts (one round trip), decide, commit the
    record; the caller answers only after this returns.

    Given `token` instead of `caller` (a gateway's fast path), the same round trip reads who
    asks, and they are checked before anything is decided or recorded; a session caller was
    checked by the view. An agent asking as itself is named by its `workload` identity; a
    token exchange passes the `jti` of the credential it decides for."""
    facts, capability = read_facts(
        agent_slug=agent_slug, capability_key=capability_key, token=token
    )
    if token is not None:
        caller = _token_caller(facts)
    result = decide(
        facts, capability, agent_slug=agent_slug, capability_key=capability_key, scope=scope
    )
    return result, decision_record(
        result=result, caller=caller, workload=workload, credential_jti=credential_jti
    )


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
