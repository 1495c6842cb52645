"""A transactional outbox: writes queue work as rows; a dispatcher delivers them later.

`enqueue(handler, **payload)` adds a row inside the caller's transaction, so nothing is
delivered for a change that rolled back and nothing is lost for one that committed. After
commit the dispatcher is nudged without the request waiting for it: in the embedded default
(no broker) it runs in-process at once; with a broker a background thread asks a worker to
run `kernel.dispatch_outbox`, and if the broker is down the rows simply wait for the next
nudge, the beat schedule, or `manage.py dispatch_outbox`. A failed delivery is retried with
exponential backoff and, after `MAX_ATTEMPTS`, kept as `failed` for security to see.
"""

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from auditlog.models import LogEntry
from celery import shared_task
from django.db import connection, transaction
from django.db.models import Case, QuerySet, Value, When
from django.utils import timezone

from kernel.audit import audit_actor
from kernel.errors import ApplicationError, NotFound
from kernel.models import OutboxMessage, OutboxStatus
from kernel.permissions import Action, AnyUser, require

logger = logging.getLogger(__name__)

Handler = Callable[..., Any]

MAX_ATTEMPTS = 8
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)
BATCH_SIZE = 100

_handlers: dict[str, Handler] = {}


def handler(name: str) -> Callable[[Handler], Handler]:
    """Register a delivery function under `name` (the name is what the row stores)."""

    def register(fn: Handler) -> Handler:
        _handlers[name] = fn
        return fn

    return register


def _check_registered(name: str) -> None:
    if name not in _handlers:
        raise LookupError(f"{name} is not a registered outbox handler")


def enqueue(name: str, **payload: Any) -> OutboxMessage:
    """Queue `name(**payload)`; call it inside the transaction that makes the change."""
    _check_registered(name)
    message = OutboxMessage.objects.create(
        handler=name, payload=payload, next_attempt_at=timezone.now()
    )
    transaction.on_commit(nudge)
    return message


def enqueue_many(messages: Sequence[tuple[str, dict[str, Any]]]) -> list[OutboxMessage]:
    """Queue several `(handler, payload)` messages in one INSERT (a notice's channels); each
    is still delivered, retried and failed on its own."""
    for name, _ in messages:
        _check_registered(name)
    now = timezone.now()
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(handler=name, payload=payload, next_attempt_at=now)
        for name, payload in messages
    )
    if rows:
        transaction.on_commit(nudge)
    return rows


def backoff(attempts: int) -> timedelta:
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_CAP)


def nudge() -> None:
    """Have the dispatcher look now, without making the caller wait for a broker."""
    if dispatch_outbox.app.conf.task_always_eager:
        dispatch_due()
        return
    threading.Thread(target=_send_dispatch, name="outbox-nudge", daemon=True).start()


def _send_dispatch() -> None:
    try:
        dispatch_outbox.apply_async(retry=False)
    except Exception:  # the broker is down: the rows wait for beat or dispatch_outbox
        logger.warning("outbox: could not reach the broker; messages wait", exc_info=True)


def _claim(now: Any, *, after: int, limit: int) -> list[int]:
    due = OutboxMessage.objects.filter(
        status=OutboxStatus.PENDING, next_attempt_at__lte=now, pk__gt=after
    ).order_by("id")
    return list(due.values_list("pk", flat=True)[:limit])


def _deliver_one(pk: int) -> bool:
    """Deliver one message under its row lock (two dispatchers never deliver it twice)."""
    with transaction.atomic():
        skip_locked = connection.features.has_select_for_update_skip_locked
        locked = OutboxMessage.objects.select_for_update(skip_locked=skip_locked).filter(
            pk=pk, status=OutboxStatus.PENDING
        )
        message = locked.first()
        if message is None:
            return False
        try:
            with transaction.atomic():
                _handlers[message.handler](**message.payload)
        except Exception as exc:
            message.attempts += 1
            message.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = OutboxStatus.FAILED
            message.next_attempt_at = timezone.now() + backoff(message.attempts)
            message.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("outbox: %s failed (attempt %s)", message, message.attempts)
            return False
        message.status = OutboxStatus.DELIVERED
        message.attempts += 1
        message.delivered_at = timezone.now()
        message.save(update_fields=["status", "attempts", "delivered_at"])
        return True


def dispatch_due() -> int:
    """Deliver up to BATCH_SIZE messages that are due, oldest first, including those queued
    while this runs (a delivery may queue more); returns how many were delivered. A message
    that fails waits for its backoff, so one run tries it at most once."""
    delivered, after, budget = 0, 0, BATCH_SIZE
    while budget > 0:
        pks = _claim(timezone.now(), after=after, limit=budget)
        if not pks:
            break
        for pk in pks:
            delivered += _deliver_one(pk)
        after, budget = pks[-1], budget - len(pks)
    return delivered


@shared_task(name="kernel.dispatch_outbox")
def dispatch_outbox() -> int:
    return dispatch_due()


def backlog() -> dict[str, int]:
    """Pending and failed counts, for /healthz and the security dashboard."""
    pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING).count()
    failed = OutboxMessage.objects.filter(status=OutboxStatus.FAILED).count()
    return {"pending": pending, "failed": failed}


def undelivered() -> QuerySet[OutboxMessage]:
    """What the portal has not delivered: given up on (failed) first, then by when it is due."""
    failed_first = Case(When(status=OutboxStatus.FAILED, then=Value(0)), default=Value(1))
    return OutboxMessage.objects.exclude(status=OutboxStatus.DELIVERED).order_by(
        failed_first, "next_attempt_at", "id"
    )


def deliveries_for(user: AnyUser, filters: Any = None) -> QuerySet[OutboxMessage]:
    """`undelivered()`, for security only (the API lists through this; it has no filters)."""
    require(user, Action.MANAGE_DELIVERIES)
    return undelivered()


def delivery_get(user: AnyUser, pk: int) -> OutboxMessage:
    """One delivery, for security (a wrong role is refused before the id is looked up)."""
    require(user, Action.MANAGE_DELIVERIES)
    message = OutboxMessage.objects.filter(pk=pk).first()
    if message is None:
        raise NotFound(f"There is no delivery #{pk}.")
    return message


def retry(*, actor: AnyUser, message: OutboxMessage) -> OutboxMessage:
    """Security sends a delivery the portal gave up on round again, now, with a fresh set of
    attempts (its last error stays until the next attempt). Recorded in the audit trail."""
    require(actor, Action.MANAGE_DELIVERIES)
    pk = message.pk
    with transaction.atomic():
        message = OutboxMessage.objects.select_for_update().get(pk=pk)
        if not message.given_up:
            raise ApplicationError(
                f"Delivery #{pk} is {message.get_status_display().lower()}: only one the portal "
                "gave up on (failed) is retried; a pending one is tried again by itself.",
                code="not_failed",
            )
        _send_round_again(actor, message)
    return message


def retry_failed(*, actor: AnyUser) -> int:
    """Every delivery the portal gave up on, round again (after a receiver's outage); how many."""
    require(actor, Action.MANAGE_DELIVERIES)
    with transaction.atomic():
        failed = OutboxMessage.objects.select_for_update().filter(status=OutboxStatus.FAILED)
        messages = list(failed.order_by("id"))
        for message in messages:
            _send_round_again(actor, message)
    return len(messages)


def _send_round_again(actor: AnyUser, message: OutboxMessage) -> None:
    """A failed message (locked) pending again now, audited; delivered after commit."""
    attempts = message.attempts
    message.status, message.attempts = OutboxStatus.PENDING, 0
    message.next_attempt_at = timezone.now()
    message.save(update_fields=["status", "attempts", "next_attempt_at"])
    with audit_actor(actor):
        LogEntry.objects.log_create(
            message,
            force_log=True,
            action=LogEntry.Action.UPDATE,
            changes={"status": ["failed", "pending"], "attempts": [str(attempts), "0"]},
        )
    transaction.on_commit(nudge)
