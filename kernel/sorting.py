"""Sortable lists: `?sort=column` (ascending) or `?sort=-column` (descending).

Each list names its sortable columns once, in a `SortSpec` (an allow-list: column -> the
fields or expressions it orders by) next to its filters; the view narrows the rows with the
filters, then orders them with `sort_rows`. The header links come from the `sort_header`
template tag (kernel/templatetags/tables.py), which keeps the list's other query parameters.

A column outside the allow-list is never passed to the ORM (so never a 500, and never a way to
order by a hidden field): the list keeps its default order and the page says why.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import Expression, F, OrderBy, QuerySet

SORT_PARAM = "sort"

Ordering = str | Expression


@dataclass(frozen=True)
class SortSpec:
    """`columns` maps each sortable column to what it orders by; `default` is a column,
    prefixed with "-" for descending. The primary key breaks ties, so pages never overlap."""

    columns: Mapping[str, tuple[Ordering, ...]]
    default: str

    def __post_init__(self) -> None:
        if self.default.lstrip("-") not in self.columns:
            raise ValueError(f"The default sort {self.default!r} is not a sortable column.")


@dataclass(frozen=True)
class Sort:
    """The order a list is shown in: its column, its direction, and why the one asked for
    was refused (empty when it was not)."""

    column: str
    descending: bool
    error: str = field(default="", compare=False)

    @property
    def param(self) -> str:
        """The `sort` query value of this order."""
        return f"-{self.column}" if self.descending else self.column

    def toggled(self, column: str) -> str:
        """The `sort` value of the header link of `column`: the other direction when the list
        is sorted by it already, else ascending."""
        if column == self.column and not self.descending:
            return f"-{column}"
        return column


def sort_from(spec: SortSpec, params: Mapping[str, str]) -> Sort:
    """The order asked for in `params` (query parameters), or the default with an error."""
    asked = (params.get(SORT_PARAM) or "").strip()
    column = asked.removeprefix("-")
    if not asked:
        column = spec.default.removeprefix("-")
        return Sort(column, spec.default.startswith("-"))
    if column in spec.columns:
        return Sort(column, asked.startswith("-"))
    default = spec.default.removeprefix("-")
    sortable = ", ".join(sorted(spec.columns))
    error = f"This list cannot be sorted by “{asked[:50]}”: pick one of {sortable}."
    return Sort(default, spec.default.startswith("-"), error)


def _ordered(item: Ordering, descending: bool) -> OrderBy:
    expression: Expression | F = F(item) if isinstance(item, str) else item
    if descending:
        return OrderBy(expression, descending=True, nulls_last=True)
    return OrderBy(expression, nulls_last=True)


def sort_rows(
    queryset: QuerySet, spec: SortSpec, params: Mapping[str, str]
) -> tuple[QuerySet, Sort]:
    """`queryset` in the order `params` ask for (`?sort=`), and that order for the headers."""
    sort = sort_from(spec, params)
    orderings = [_ordered(item, sort.descending) for item in spec.columns[sort.column]]
    return queryset.order_by(*orderings, _ordered("pk", sort.descending)), sort
