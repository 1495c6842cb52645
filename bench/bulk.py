"""Loading millions of rows fast: COPY in parallel, with the table's indexes built after.

Inserting into a table with its indexes in place costs several random index writes per row
(the decision log has a dozen indexes: 26 s for 1,000,000 rows on 2 cores); copying into the
bare table and building each index once afterwards, by sorting, costs a third of that. The
indexes and keys made again are exactly the ones dropped (their definitions are read from the
catalogue first); on a partitioned table they are the parent's, so every partition gets them.
"""

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

# Rows are sent to PostgreSQL this many at a time.
_CHUNK = 5_000


def load(
    url: str,
    table: str,
    columns: list[str],
    parts: list[Callable[[], Iterable[str]]],
    *,
    parallel: int = 2,
) -> dict[str, float]:
    """COPY every part's lines (COPY text format: tab-separated, `\\N` for NULL, one row a
    line ending in a newline) into `table`, `parallel` parts at a time, each on a connection
    of its own; the table's indexes are dropped before and built again after. Seconds taken."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        keys, indexes = _drop_indexes(admin, table)
        started = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            rows = sum(pool.map(lambda part: _copy(url, table, columns, part()), parts))
        copied = time.perf_counter()
        for statement in keys:  # ACCESS EXCLUSIVE each: one at a time
            admin.execute(statement)
        with ThreadPoolExecutor(parallel) as pool:  # CREATE INDEX locks let others build too
            list(pool.map(lambda statement: _build(url, statement), indexes))
        built = time.perf_counter()
    return {
        "rows": rows,
        "copy_s": round(copied - started, 2),
        "indexes_s": round(built - copied, 2),
        "indexes": len(keys) + len(indexes),
    }


def _copy(url: str, table: str, columns: list[str], lines: Iterable[str]) -> int:
    import psycopg

    count = 0
    with (
        psycopg.connect(url, autocommit=True) as connection,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) == _CHUNK:
                copy.write("".join(chunk))
                count += len(chunk)
                chunk = []
        copy.write("".join(chunk))
        count += len(chunk)
    return count


def _build(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '256MB'")
        connection.execute(statement)


def _drop_indexes(connection, table: str) -> tuple[list[str], list[str]]:
    """Drop `table`'s primary key, unique constraints and indexes; the statements that make
    them again (keys, then plain indexes)."""
    rows = connection.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid), c.conname, pg_get_constraintdef(c.oid) "
        "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "LEFT JOIN pg_constraint c ON c.conindid = x.indexrelid AND c.conrelid = x.indrelid "
        "WHERE x.indrelid = %s::regclass ORDER BY i.relname",
        [table],
    ).fetchall()
    keys, indexes = [], []
    for index, definition, constraint, key in rows:
        if constraint is not None:
            connection.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{constraint}"')
            keys.append(f'ALTER TABLE "{table}" ADD CONSTRAINT "{constraint}" {key}')
        else:
            connection.execute(f'DROP INDEX "{index}"')
            # A partitioned table's own index reads ON ONLY it; made again, it spans the partitions.
            indexes.append(definition.replace(" ON ONLY ", " ON ", 1))
    return keys, indexes
