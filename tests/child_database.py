"""A DATABASE_URL under which another process (a management command, a server) reads this
test's data: a copy of the in-memory SQLite test database, or the PostgreSQL test database
itself (the test must then commit its data: `django_db(transaction=True)`)."""

import sqlite3
from pathlib import Path

from django.db import connection


def child_database_url(tmp_path: Path) -> str:
    if connection.vendor == "sqlite":
        target = tmp_path / "child.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(target)
        copy.executescript("\n".join(connection.connection.iterdump()))
        copy.close()
        return f"sqlite:///{target}"
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
