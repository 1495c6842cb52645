"""Periodic and queued work of the registry. Each task fetches and calls a service."""

from celery import shared_task

from access import grant_upkeep
from access import services as access


@shared_task(name="access.tasks.expire_grants")
def expire_grants() -> int:
    return grant_upkeep.grants_mark_expired()


@shared_task(name="access.tasks.expire_stale_requests")
def expire_stale_requests() -> int:
    return access.access_requests_expire_stale()


@shared_task(name="access.tasks.remind_expiring_grants")
def remind_expiring_grants() -> int:
    return grant_upkeep.grants_remind_expiring()
