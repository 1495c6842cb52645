"""How the portal tells people things: notices registered by the apps, delivered after commit.

An app declares each notice with `@notice` (a function of one primary key that sends and
returns how many messages went out) and queues it with `queue_notice(fn, pk)` inside the
transaction that made the change: an outbox row (kernel.outbox), delivered with retries once
the change has committed, whether or not a broker is up. Sending and security's addresses
live here, so every app uses one mail path.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail

from kernel import outbox
from kernel.roles import Role

Notice = Callable[[int], int]

_notices: dict[str, Notice] = {}


def notice(fn: Notice) -> Notice:
    """Register `fn` as a notice under `<module>.<name>` (the name travels in the task)."""
    _notices[f"{fn.__module__}.{fn.__name__}"] = fn
    return fn


def queue_notice(fn: Notice, pk: int) -> None:
    """Deliver `fn(pk)` once the current transaction commits (an outbox row, written now)."""
    name = f"{fn.__module__}.{fn.__name__}"
    if name not in _notices:
        raise LookupError(f"{name} is not a registered notice (decorate it with @notice)")
    outbox.enqueue("kernel.notice", notice_name=name, pk=pk)


@outbox.handler("kernel.notice")
def deliver_notice(*, notice_name: str, pk: int) -> int:
    return _notices[notice_name](pk)


def security_addresses() -> list[str]:
    addresses = set(
        User.objects.filter(groups__name=Role.SECURITY, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if settings.SECURITY_TEAM_EMAIL:
        addresses.add(settings.SECURITY_TEAM_EMAIL)
    return sorted(addresses)


def one_line(text: str) -> str:
    """`text` as one header line: subjects carry titles people typed, and a CR or LF in a
    header is refused by Django (BadHeaderError) after the change already committed."""
    return " ".join(part.strip() for part in text.replace("\x00", "").splitlines()).strip()


def send(subject: str, body: str, recipients: list[str]) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(
        f"[Agent portal] {one_line(subject)}", body, settings.DEFAULT_FROM_EMAIL, recipients
    )
