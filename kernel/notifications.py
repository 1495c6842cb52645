"""How the portal tells people things: one event per notice, out on every channel.

An app declares each notice with `@notice`: a function of one primary key that reads the
object and returns an `Event` (what happened, to which object, its absolute `link`, facts for
machines, and a subject, body and recipients for people), or None when there is nothing to
say. `queue_notice(fn, pk)` renders it inside the transaction that made the change and writes
one outbox row per channel (kernel.notice_channels: email, Slack, each webhook), so nothing
goes out for a change that rolled back, nothing is lost for one that committed, and a
receiver that is down is retried alone, never re-sending the emails. Security's addresses
live here, so every app tells security the same people.
"""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.contrib.auth.models import User

from kernel import outbox
from kernel.notice_channels import messages_for, one_line, send
from kernel.notice_event import Event, link
from kernel.roles import Role

__all__ = [
    "Event",
    "Notice",
    "link",
    "notice",
    "one_line",
    "queue_event",
    "queue_notice",
    "security_addresses",
    "send",
]

Notice = Callable[[int], Event | None]

_notices: dict[str, Notice] = {}


def _name(fn: Notice) -> str:
    return f"{fn.__module__}.{fn.__name__}"


def notice(fn: Notice) -> Notice:
    """Register `fn` as a notice under `<module>.<name>`."""
    _notices[_name(fn)] = fn
    return fn


def queue_notice(fn: Notice, pk: int) -> int:
    """Render `fn(pk)` now and queue its deliveries for when the current transaction commits.
    Returns how many deliveries (outbox rows) were queued."""
    if _name(fn) not in _notices:
        raise LookupError(f"{_name(fn)} is not a registered notice (decorate it with @notice)")
    return queue_event(fn(pk))


def queue_event(event: Event | None) -> int:
    """Queue `event` on every configured channel, one outbox row each, in one INSERT."""
    if event is None:
        return 0
    messages = messages_for(event)
    if messages:
        outbox.enqueue_many(messages)
    return len(messages)


@outbox.handler("kernel.notice")
def deliver_notice(*, notice_name: str, pk: int) -> int:
    """A row queued before notices had channels: render it now and queue its deliveries."""
    return queue_event(_notices[notice_name](pk))


def security_addresses(*, but: Iterable[str] = ()) -> list[str]:
    """Security's addresses (the team's mailbox too), `but` those: an "approval needed" notice
    skips the people who may not approve it (whoever asked, the agent's owner)."""
    addresses = set(
        User.objects.filter(groups__name=Role.SECURITY, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    addresses.difference_update(but)
    if settings.SECURITY_TEAM_EMAIL:
        addresses.add(settings.SECURITY_TEAM_EMAIL)
    return sorted(addresses)
