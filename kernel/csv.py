"""CSV the portal hands out: text a spreadsheet would run as a formula is written as text.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
LibreOffice and Google Sheets (`=HYPERLINK(...)`, `-1+1+cmd|' /C calc'!A0`); any of our
cells may hold text someone typed (a control or exception title, a note). Such a cell gets a
leading apostrophe, which spreadsheets show as text, unless it is a plain number (`-1.5`).
Every CSV writer in the portal goes through `writer()`.
"""

import csv
import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class _Writable(Protocol):
    def write(self, value: str, /) -> Any: ...


def safe_cell(value: Any) -> Any:
    """`value`, or `'value` when a spreadsheet would read the text as a formula."""
    if (
        isinstance(value, str)
        and value.startswith(_FORMULA_START)
        and not _PLAIN_NUMBER.fullmatch(value)
    ):
        return "'" + value
    return value


class SafeWriter:
    """`csv.writer` whose rows pass every cell through `safe_cell` first."""

    def __init__(self, handle: _Writable, **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([safe_cell(value) for value in row])


def writer(handle: _Writable, **options: Any) -> SafeWriter:
    return SafeWriter(handle, **options)


class _Echo:
    """A file-like object whose write returns the line, for a writer in a generator."""

    def write(self, value: str) -> str:
        return value


def lines(rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text of `rows`, a line at a time (for a StreamingHttpResponse), formula-safe."""
    out = writer(_Echo())
    for row in rows:
        yield out.writerow(row)
