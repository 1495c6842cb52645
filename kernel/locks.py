"""Locks on things that have no row of their own, such as "exceptions of this agent for this
capability", held until the transaction ends.

On PostgreSQL an advisory transaction lock (`pg_advisory_xact_lock`): it blocks no reader and
no writer of any table, only whoever asks for the same lock. SQLite needs none: every
transaction there takes the database's write lock when it begins (portal/databases.py).
"""

import zlib

from django.db import connection

_INT4 = 2**31


def _key(text: str) -> int:
    """A stable signed 32-bit key for `text` (two different texts may share one: they are then
    taken one after the other, which is safe)."""
    return zlib.crc32(text.encode()) - _INT4


def hold_until_commit(namespace: str, *ids: object) -> None:
    """Wait for, then hold until this transaction ends, the lock named by `namespace` and `ids`
    (e.g. "exceptions.stacking", agent id, capability id). Call it inside transaction.atomic."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)",
            [_key(namespace), _key(":".join(map(str, ids)))],
        )
