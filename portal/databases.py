"""The default database from DATABASE_URL, with each engine's options for the way the portal
uses it (read by portal/settings.py as DATABASES["default"])."""

from pathlib import Path
from typing import Any

import dj_database_url

from kernel.env import env_bool, env_int, env_str

# The embedded default serves requests at once (gunicorn workers and threads, the ASGI
# server's thread pool) and SQLite lets one writer in at a time. Django's defaults make
# concurrent writes fail instead of wait: a transaction begins DEFERRED, reads, and when it
# then writes while another holds the write lock SQLite answers "database is locked" at once
# (waiting could deadlock), which the API reports as a 503. So, per Django 5.2's SQLite notes:
SQLITE_OPTIONS = {
    # Every transaction takes the write lock when it begins (BEGIN IMMEDIATE), waiting for it
    # up to `timeout`: two approvals of one request run one after the other, and the second
    # sees the first's result and is refused as usual (a 400), as row locks do on PostgreSQL.
    "transaction_mode": "IMMEDIATE",
    # Seconds a write waits for the lock (the busy timeout) before "database is locked".
    "timeout": 20,
    # Run on each new connection. WAL: readers and the writer do not block each other.
    # synchronous=NORMAL: a commit survives a killed process (the decision log's guarantee);
    # the last commits before a power cut may not, which is the embedded default's trade
    # (production runs on PostgreSQL). foreign_keys: Django turns them on itself.
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}


def default_database(base_dir: Path) -> dict[str, Any]:
    database: dict[str, Any] = dict(
        dj_database_url.parse(
            env_str("DATABASE_URL", f"sqlite:///{base_dir / 'db.sqlite3'}"),
            conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
            conn_health_checks=True,
        )
    )
    options = database.setdefault("OPTIONS", {})
    if database["ENGINE"] == "django.db.backends.sqlite3":
        for name, value in SQLITE_OPTIONS.items():
            options.setdefault(name, value)
    elif database["ENGINE"] == "django.db.backends.postgresql":
        # Server-side parameter binding lets psycopg 3 prepare the hot statements (the decision
        # path runs the same few queries thousands of times a second), so PostgreSQL plans them
        # once per connection instead of on every call.
        options.setdefault(
            "server_side_binding", env_bool("DATABASE_SERVER_SIDE_BINDING", default=True)
        )
        # Prepare a statement after it ran this many times on a connection (0 or empty: never,
        # e.g. behind a transaction-pooling PgBouncer).
        threshold = env_str("DATABASE_PREPARE_THRESHOLD", "5").strip()
        options.setdefault(
            "prepare_threshold", int(threshold) if threshold not in ("", "0") else None
        )
    return database
