"""Periodic and queued work of the registry. Each task fetches and calls a service."""

from celery import shared_task

from registry.services import access, grant_upkeep


@shared_task(name="registry.tasks.notify")
def notify(notifier: str, pk: int) -> int:
    from registry.notifications import NOTIFIERS

    return NOTIFIERS[notifier](pk)


@shared_task(name="registry.tasks.expire_grants")
def expire_grants() -> int:
    return grant_upkeep.grants_mark_expired()


@shared_task(name="registry.tasks.expire_stale_requests")
def expire_stale_requests() -> int:
    return access.access_requests_expire_stale()


@shared_task(name="registry.tasks.remind_expiring_grants")
def remind_expiring_grants() -> int:
    return grant_upkeep.grants_remind_expiring()
