"""Attribute audit-trail entries to the person a service acts for.

The auditlog middleware knows the session user, but token-authenticated API calls, Celery
tasks and management commands have none: services wrap their writes in `audit_actor(actor)`.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from auditlog.context import auditlog_value, set_actor

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
    try:
        with set_actor(actor):
            yield
    finally:
        # auditlog's set_actor neither restores an outer context (e.g. the middleware's) nor
        # clears its own, so a finished context would linger: always open a fresh one, and
        # put the outer one back afterwards.
        if previous is not None:
            auditlog_value.set(previous)
