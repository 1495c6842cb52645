"""The crosswalk between two frameworks (items sharing active controls), and which frameworks
share controls with which: what an auditor reporting against one framework can reuse from
another."""

from collections import defaultdict
from dataclasses import dataclass

from controls.applicability import Statement, statement_get
from controls.models import Control, Framework, FrameworkItem, ItemApplicability, Mapping


@dataclass
class CrosswalkMatch:
    item: FrameworkItem
    controls: list[Control]
    not_applicable: ItemApplicability | None = None


@dataclass
class CrosswalkRow:
    item: FrameworkItem
    matches: list[CrosswalkMatch]
    not_applicable: ItemApplicability | None = None

    @property
    def shared(self) -> bool:
        """In scope, with a counterpart in scope."""
        return self.not_applicable is None and any(m.not_applicable is None for m in self.matches)


@dataclass
class Crosswalk:
    a: Statement
    b: Statement
    rows: list[CrosswalkRow]

    @property
    def shared(self) -> int:
        return sum(row.shared for row in self.rows)

    @property
    def statements(self) -> list[Statement]:
        """Both frameworks' statements (one, when a framework is compared with itself)."""
        return [self.a] if self.a.framework.pk == self.b.framework.pk else [self.a, self.b]


def crosswalk(a: Framework, b: Framework) -> Crosswalk:
    """For each item of `a`, the items of `b` that share at least one active control; items
    out of scope on either side are marked (and are no counterpart)."""
    mappings = (
        Mapping.objects.filter(item__framework__in=[a, b], control__active=True)
        .select_related("item", "control")
        .order_by("item__order", "control__ref_id")
    )
    a_controls: dict[int, list[Control]] = defaultdict(list)
    b_items_of_control: dict[int, list[FrameworkItem]] = defaultdict(list)
    for mapping in mappings:
        if mapping.item.framework_id == a.pk:
            a_controls[mapping.item_id].append(mapping.control)
        if mapping.item.framework_id == b.pk:
            b_items_of_control[mapping.control_id].append(mapping.item)
    result = Crosswalk(a=statement_get(a), b=statement_get(b), rows=[])
    for item in FrameworkItem.objects.filter(framework=a).order_by("order"):
        if item.pk not in a_controls:
            continue
        shared: dict[int, CrosswalkMatch] = {}
        for control in a_controls[item.pk]:
            for other in b_items_of_control.get(control.pk, []):
                match = shared.setdefault(
                    other.pk,
                    CrosswalkMatch(item=other, controls=[], not_applicable=result.b.of(other)),
                )
                match.controls.append(control)
        matches = sorted(shared.values(), key=lambda match: match.item.order)
        result.rows.append(
            CrosswalkRow(item=item, matches=matches, not_applicable=result.a.of(item))
        )
    return result


@dataclass
class SharedFramework:
    """Another framework that shares active controls with one framework."""

    key: str
    name: str
    controls: list[str]


def frameworks_sharing_controls() -> dict[str, list[SharedFramework]]:
    """For each framework key, the other frameworks mapped to one of its active controls (most
    shared controls first), in one query."""
    pairs = (
        Mapping.objects.filter(control__active=True)
        .values_list("item__framework__key", "item__framework__name", "control__ref_id")
        .distinct()
        .order_by("item__framework__key", "control__ref_id")
    )
    controls: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    for key, name, ref_id in pairs:
        controls[key].add(ref_id)
        names[key] = name
    shared: dict[str, list[SharedFramework]] = {}
    for key, own in controls.items():
        others = [
            SharedFramework(key=other, name=names[other], controls=sorted(own & theirs))
            for other, theirs in controls.items()
            if other != key and own & theirs
        ]
        shared[key] = sorted(others, key=lambda found: (-len(found.controls), found.key))
    return shared
