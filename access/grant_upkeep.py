"""Grant upkeep run by Celery beat: bookkeeping and reminders, never access decisions.

Whether a grant is active is computed from its times at read time (registry.selectors), so
nothing here has to run for access to end on time.
"""

from django.db import transaction
from django.utils import timezone

from access import notifications
from access.limits import GRANT_REMINDER_BEFORE
from access.models import Grant
from kernel.notifications import queue_notice


@transaction.atomic
def grants_mark_expired(*, now=None) -> int:
    """Bookkeeping for reports: nothing that decides access reads this flag."""
    now = now or timezone.now()
    return Grant.objects.filter(expired=False, expires_at__lte=now).update(expired=True)


@transaction.atomic
def grants_remind_expiring(*, now=None) -> int:
    """Tell owners GRANT_REMINDER_BEFORE (an hour) before a grant expires, once per grant."""
    now = now or timezone.now()
    due = list(
        Grant.objects.select_for_update(skip_locked=True)
        .filter(
            revoked_at__isnull=True,
            expiry_reminder_sent_at__isnull=True,
            expires_at__gt=now,
            expires_at__lte=now + GRANT_REMINDER_BEFORE,
        )
        .order_by("pk")
    )
    for grant in due:
        grant.expiry_reminder_sent_at = now
        grant.save(update_fields=["expiry_reminder_sent_at"])
        queue_notice(notifications.grant_expiring, grant.pk)
    return len(due)
