"""Project-wide Celery tasks."""

from celery import shared_task
from django.db import connection


@shared_task(name="portal.tasks.heartbeat")
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
