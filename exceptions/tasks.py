"""Periodic and queued work of the exceptions app. Each task fetches and calls a service."""

from celery import shared_task

from exceptions import upkeep


@shared_task(name="exceptions.tasks.expire_exceptions")
def expire_exceptions() -> int:
    return upkeep.exceptions_mark_expired()


@shared_task(name="exceptions.tasks.remind_expiring_exceptions")
def remind_expiring_exceptions() -> int:
    return upkeep.exceptions_send_reminders()
