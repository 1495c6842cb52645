"""Attribute audit-trail entries to the person a service acts for.

The auditlog middleware knows the session user, but token-authenticated API calls, Celery
tasks and management commands have none: services wrap their writes in `audit_actor(actor)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from auditlog.context import auditlog_value, set_actor, set_extra_data
from auditlog.models import LogEntry
from django.db.models import Model

from kernel.permissions import AnyUser


@contextmanager
def audit_actor(actor: AnyUser | None) -> Iterator[None]:
    try:
        previous = auditlog_value.get()
    except LookupError:
        previous = None
    if actor is None or not getattr(actor, "is_authenticated", False):
        yield
        return
    # Keep the request's address (set by the audit middleware for every request): a token
    # caller is known only here, inside the view, and its entries need the address too.
    outer = previous or {}
    try:
        with set_actor(
            actor, remote_addr=outer.get("remote_addr"), remote_port=outer.get("remote_port")
        ):
            yield
    finally:
        # auditlog's set_actor neither restores an outer context (e.g. the middleware's) nor
        # clears its own, so a finished context would linger: always open a fresh one, and
        # put the outer one back afterwards.
        if previous is not None:
            auditlog_value.set(previous)


def audit_batch(anchor: Model, *, field: str, summary: str, created: bool = False) -> LogEntry:
    """One trail entry for rows written in bulk (bulk_create sends no signals, so auditlog
    sees none of them): on `anchor` (the parent, or the batch's first row), saying in
    `changes[field]` what was written. Run it inside `audit_actor` for the actor and address."""
    return LogEntry.objects.log_create(
        anchor,
        force_log=True,
        action=LogEntry.Action.CREATE if created else LogEntry.Action.UPDATE,
        changes={field: [None, summary]},
    )


@contextmanager
def audit_source(label: str) -> Iterator[None]:
    """Entries written inside carry `label` as their source and as the actor's name shown in
    the trail (e.g. "IdP: Okta (SCIM)"): changes a directory sync makes, with no person behind
    them in the portal."""
    try:
        previous = auditlog_value.get()
    except LookupError:
        previous = None
    try:
        with set_extra_data({"additional_data": {"source": label, "actor_username": label}}):
            yield
    finally:
        if previous is not None:
            auditlog_value.set(previous)
