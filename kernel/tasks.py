"""Project-wide Celery tasks: the heartbeat, and the outbox dispatcher (defined beside the
outbox, imported here so a worker's task discovery finds it)."""

from celery import shared_task
from django.db import connection

from kernel import notifications
from kernel.outbox import dispatch_outbox

# Importing the notices module registers the outbox's notice handler in every worker.
__all__ = ["dispatch_outbox", "heartbeat", "notifications"]


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
