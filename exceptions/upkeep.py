"""Exception upkeep run by beat: expiry bookkeeping and reminders before expiry.

Neither is needed for correctness of decisions: "in force" is computed from times
(exceptions/rules.py); these move rows to their final status and tell people in time.
"""

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from exceptions import notifications
from exceptions.models import ExceptionReminder, ExceptionStatus, PolicyException, ReminderKind
from exceptions.rules import exception_running_q
from exceptions.services import set_status
from kernel.notifications import queue_notice

# Reminders before expiry; the nearer one is checked first so an exception that enters both
# windows at once gets only the one that matters.
REMINDERS = (
    (ReminderKind.ONE_DAY, timedelta(days=1)),
    (ReminderKind.SEVEN_DAYS, timedelta(days=7)),
)


@transaction.atomic
def exceptions_mark_expired(*, now: datetime | None = None) -> int:
    """Move active exceptions past their expiry to `expired`.

    Bookkeeping for lists and reports: decisions never wait for it (rules.exception_in_force_q).
    """
    now = now or timezone.now()
    due = list(
        PolicyException.objects.select_for_update(skip_locked=True)
        .filter(status=ExceptionStatus.ACTIVE, expires_at__lte=now)
        .order_by("pk")
    )
    for exception in due:
        set_status(exception, ExceptionStatus.EXPIRED)
        exception.expired_at = now
        exception.save(update_fields=["status", "expired_at"])
    return len(due)


@transaction.atomic
def exceptions_send_reminders(*, now: datetime | None = None) -> int:
    """Remind requester, agent owner and security 7 days and 1 day before expiry, once each.

    The ExceptionReminder row is the record that a reminder went out; its unique constraint
    keeps two overlapping runs from sending the same reminder twice.
    """
    now = now or timezone.now()
    sent = 0
    for kind, ahead in REMINDERS:
        nearer = [delta for _, delta in REMINDERS if delta < ahead]
        due = (
            PolicyException.objects.filter(
                exception_running_q(now),
                expires_at__gt=now + (max(nearer) if nearer else timedelta(0)),
                expires_at__lte=now + ahead,
            )
            .exclude(reminders__kind=kind)
            .order_by("pk")
        )
        for exception_id in due.values_list("pk", flat=True):
            try:
                with transaction.atomic():
                    reminder = ExceptionReminder.objects.create(
                        exception_id=exception_id, kind=kind, sent_at=now
                    )
            except IntegrityError:
                continue  # another run recorded (and sends) it
            queue_notice(notifications.exception_expiring, reminder.pk)
            sent += 1
    return sent
