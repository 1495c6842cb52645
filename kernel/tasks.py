"""Project-wide Celery tasks: the heartbeat, and notice delivery (defined beside the notices,
imported here so a worker's task discovery finds it)."""

from celery import shared_task
from django.db import connection

from kernel.notifications import deliver_notice

__all__ = ["deliver_notice", "heartbeat"]


@shared_task(name="kernel.tasks.heartbeat")
def heartbeat() -> dict[str, str]:
    """Prove a worker can run code and reach the database; returns what it saw."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {
        "status": "ok",
        "database": connection.vendor,
        "name": str(connection.settings_dict["NAME"]),
    }
