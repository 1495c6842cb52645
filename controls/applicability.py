"""Reads of applicability statements: the items security put out of the portal's scope, why,
and every version before.

A framework's statement is the current version of each item it names (an item it never named
is applicable). Its version number is the highest any item's change took: the newest change is
always its item's current version.
"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from controls.models import Framework, FrameworkItem, ItemApplicability


@dataclass
class Statement:
    framework: Framework
    version: int = 0  # 0: security never changed it (every item applicable)
    current: dict[int, ItemApplicability] = field(default_factory=dict)  # by item id

    def of(self, item: FrameworkItem) -> ItemApplicability | None:
        """The version that puts `item` out of scope now, or None when it is applicable."""
        found = self.current.get(item.pk)
        return found if found is not None and not found.applicable else None

    @property
    def not_applicable(self) -> list[ItemApplicability]:
        """Items out of scope now, in document order."""
        rows = [row for row in self.current.values() if not row.applicable]
        return sorted(rows, key=lambda row: row.item.order)


def statement_get(framework: Framework) -> Statement:
    """The framework's statement as it stands, in one query."""
    rows = ItemApplicability.objects.filter(framework=framework, current=True).select_related(
        "item", "decided_by"
    )
    current = {row.item_id: row for row in rows}
    version = max((row.version for row in current.values()), default=0)
    return Statement(framework=framework, version=version, current=current)


def statement_history(
    framework: Framework, *, item: FrameworkItem | None = None
) -> QuerySet[ItemApplicability]:
    """Every version, newest first (of one item, when given): who, when, what and why."""
    rows = ItemApplicability.objects.filter(framework=framework)
    if item is not None:
        rows = rows.filter(item=item)
    return rows.select_related("item", "decided_by").order_by("-version")
