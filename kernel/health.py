"""Is the broker reachable? Asked by /healthz with a short timeout, never by a write."""

from django.conf import settings
from kombu.connection import Connection

BROKER_TIMEOUT_SECONDS = 1.0


def broker_status() -> str:
    """`ok`, `unavailable`, or `in-process` for the embedded default (no broker)."""
    if settings.CELERY_TASK_ALWAYS_EAGER or not settings.CELERY_BROKER_URL:
        return "in-process"
    try:
        with Connection(
            settings.CELERY_BROKER_URL, connect_timeout=BROKER_TIMEOUT_SECONDS
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # any failure to connect means the same to a monitor
        return "unavailable"
    return "ok"
