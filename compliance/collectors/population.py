"""The full population a collector checked for a period, listed page by page.

The report shows a few samples per control; an auditor may need every record behind its
`checked` count. A collector's `population(period)` lists them as parts, each an ordered
source the database pages through, so nothing ever holds the whole population in memory and
a page costs the same few queries whatever the number of records:

- `Rows`: an ordered queryset (values), with a function that turns a batch of rows into
  samples (it may read one more query per batch: the approvers of a page of requests);
- `PerVersion`: the slots of the policy controls, (policy version in force x tier x
  capability): configuration, not rows. Paged by version, each version expanding to the same
  number of slots.

A page is sliced in the database (LIMIT/OFFSET); the CSV iterates with a server-side cursor
(`QuerySet.iterator`) in chunks. The number of records listed equals the collector's `checked`.
"""

from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any, Protocol

from django.db.models import QuerySet

CHUNK = 2000


@dataclass
class Sample:
    """One record shown as evidence: what it is, its id, a line about it, where to see it."""

    kind: str
    id: str
    label: str
    url: str = ""
    failed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Part(Protocol):
    def count(self) -> int: ...

    def rows(self, offset: int, limit: int) -> list[Sample]: ...

    def iterate(self) -> Iterator[Sample]: ...


def each(to_sample: Callable[[Any], Sample]) -> Callable[[list[Any]], list[Sample]]:
    """A batch converter that needs nothing beyond each row."""
    return lambda rows: [to_sample(row) for row in rows]


@dataclass(frozen=True)
class Rows:
    queryset: QuerySet[Any]  # ordered by a unique key last, so pages never overlap
    to_samples: Callable[[list[Any]], list[Sample]]

    def count(self) -> int:
        return self.queryset.count()

    def rows(self, offset: int, limit: int) -> list[Sample]:
        return self.to_samples(list(self.queryset[offset : offset + limit]))

    def iterate(self) -> Iterator[Sample]:
        batch: list[Any] = []
        for row in self.queryset.iterator(chunk_size=CHUNK):
            batch.append(row)
            if len(batch) == CHUNK:
                yield from self.to_samples(batch)
                batch = []
        if batch:
            yield from self.to_samples(batch)


class PerVersion:
    """`versions` (ordered values_list of (pk, number)), each expanding to `slots()` samples;
    `expand(versions)` returns the slots of those versions in order (a query or two)."""

    def __init__(
        self,
        versions: QuerySet[Any],
        slots: Callable[[], int],
        expand: Callable[[list[tuple[int, int]]], list[Sample]],
    ) -> None:
        self.versions = versions
        self._slots = slots
        self.expand = expand

    @cached_property
    def per_version(self) -> int:
        return self._slots()

    def count(self) -> int:
        return self.versions.count() * self.per_version if self.per_version else 0

    def rows(self, offset: int, limit: int) -> list[Sample]:
        size = self.per_version
        if not size or limit <= 0:
            return []
        first, last = offset // size, (offset + limit - 1) // size + 1
        slots = self.expand(list(self.versions[first:last]))
        start = offset - first * size
        return slots[start : start + limit]

    def iterate(self) -> Iterator[Sample]:
        size = self.per_version
        if not size:
            return
        step = max(1, CHUNK // size)
        first = 0
        while chosen := list(self.versions[first : first + step]):
            yield from self.expand(chosen)
            first += step


class Population:
    """Every record a collector checked: its parts one after the other. Sliced like a list
    (what Django's Paginator and DRF's pagination need), iterated for a CSV."""

    def __init__(self, *parts: Part) -> None:
        self.parts = parts

    @cached_property
    def counts(self) -> list[int]:
        return [part.count() for part in self.parts]

    def count(self) -> int:
        return sum(self.counts)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[Sample]:
        if not isinstance(index, slice) or index.step not in (None, 1):
            raise TypeError("A population is read a page (a slice) at a time.")
        start, stop, _ = index.indices(self.count())
        found: list[Sample] = []
        for part, size in zip(self.parts, self.counts, strict=True):
            if start < size and stop > 0:
                found += part.rows(max(start, 0), min(stop, size) - max(start, 0))
            start, stop = start - size, stop - size
        return found

    def __iter__(self) -> Iterator[Sample]:
        for part in self.parts:
            yield from part.iterate()
