"""How the portal tells people things: notices registered by the apps, delivered after commit.

An app declares each notice with `@notice` (a function of one primary key that sends and
returns how many messages went out) and queues it with `queue_notice(fn, pk)` inside the
transaction that made the change. The Celery task `deliver_notice` runs it once the change
has committed (in-process in the embedded default). Sending and security's addresses live
here, so every app uses one mail path.
"""

from collections.abc import Callable

from celery import shared_task
from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import send_mail
from django.db import transaction

from kernel.roles import Role

Notice = Callable[[int], int]

_notices: dict[str, Notice] = {}


def notice(fn: Notice) -> Notice:
    """Register `fn` as a notice under `<module>.<name>` (the name travels in the task)."""
    _notices[f"{fn.__module__}.{fn.__name__}"] = fn
    return fn


def queue_notice(fn: Notice, pk: int) -> None:
    """Deliver `fn(pk)` once the current transaction commits."""
    name = f"{fn.__module__}.{fn.__name__}"
    if name not in _notices:
        raise LookupError(f"{name} is not a registered notice (decorate it with @notice)")
    transaction.on_commit(lambda: deliver_notice.delay(name, pk))


@shared_task(name="kernel.deliver_notice")
def deliver_notice(name: str, pk: int) -> int:
    return _notices[name](pk)


def security_addresses() -> list[str]:
    addresses = set(
        User.objects.filter(groups__name=Role.SECURITY, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if settings.SECURITY_TEAM_EMAIL:
        addresses.add(settings.SECURITY_TEAM_EMAIL)
    return sorted(addresses)


def send(subject: str, body: str, recipients: list[str]) -> int:
    recipients = [r for r in recipients if r]
    if not recipients:
        return 0
    return send_mail(f"[Agent portal] {subject}", body, settings.DEFAULT_FROM_EMAIL, recipients)
