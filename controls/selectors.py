"""Reads of compliance data: coverage, the items x controls matrix, the crosswalk, controls,
applicability statements.

Coverage counts applicable items only: an item security marked not applicable (its current
applicability version says so) is out of the portal's scope, and is listed with its rationale
instead of counted as a gap.
"""

import collections.abc
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from django.contrib.auth.models import User
from django.db.models import (
    Count,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from controls.applicability import Statement, statement_get
from controls.filters import ItemFilter
from controls.models import (
    Control,
    EvidenceFile,
    Framework,
    FrameworkItem,
    ItemApplicability,
    Mapping,
)
from kernel.errors import NotFound
from kernel.filtering import filtered
from kernel.roles import Role

# The crosswalk shown when none is asked for: the two frameworks auditors compare most.
DEFAULT_CROSSWALK = ("owasp-agentic-top10-2026", "nist-ai-rmf-1.0")

# A mapping counts towards coverage only through an active control.
ACTIVE_MAPPING = Q(items__mappings__control__active=True)


NOT_APPLICABLE_NOW = Q(current=True, applicable=False)


def _count_not_applicable(covered: bool) -> Coalesce:
    """Items of the outer framework marked not applicable now (and, if `covered`, mapped to an
    active control), as a subquery: one row per framework, no join multiplying the items."""
    rows = ItemApplicability.objects.filter(NOT_APPLICABLE_NOW, framework=OuterRef("pk"))
    if covered:
        rows = rows.filter(item__mappings__control__active=True)
    count = rows.order_by().values("framework").annotate(n=Count("item", distinct=True))
    return Coalesce(Subquery(count.values("n"), output_field=IntegerField()), 0)


def framework_list() -> QuerySet[Framework]:
    """Frameworks with, in one query: `items_total` (every item), `items_not_applicable`,
    `items_applicable`, and `items_covered` (applicable items with >= 1 active control)."""
    return (
        Framework.objects.annotate(
            items_total=Count("items", distinct=True),
            items_mapped=Count("items", filter=ACTIVE_MAPPING, distinct=True),
            items_not_applicable=_count_not_applicable(covered=False),
            items_mapped_not_applicable=_count_not_applicable(covered=True),
        )
        .annotate(
            items_applicable=F("items_total") - F("items_not_applicable"),
            items_covered=F("items_mapped") - F("items_mapped_not_applicable"),
        )
        .order_by("key")
    )


def percent(part: int, whole: int) -> float:
    """`part` of `whole` in percent, one decimal (0 of nothing is 0)."""
    return round(100 * part / whole, 1) if whole else 0.0


def coverage_percent(framework: Framework) -> float:
    """Share of applicable items with a mapped active control (needs `framework_list`'s
    annotations)."""
    covered: int = getattr(framework, "items_covered", 0)
    return percent(covered, getattr(framework, "items_applicable", 0))


def framework_get(key: str) -> Framework:
    try:
        return framework_list().get(key=key)
    except Framework.DoesNotExist:
        raise NotFound(f"No framework with key '{key}'.") from None


def framework_items(
    framework: Framework, *, filters: collections.abc.Mapping[str, str] | None = None
) -> QuerySet[FrameworkItem]:
    """Items in document order, narrowed by `filters` (controls.filters.ItemFilter), with their
    parent, mapped controls and current applicability version (`current_applicability`, a list
    of at most one) prefetched."""
    items = (
        FrameworkItem.objects.filter(framework=framework)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "mappings",
                queryset=Mapping.objects.select_related("control").order_by("control__ref_id"),
            ),
            Prefetch(
                "applicability_versions",
                queryset=ItemApplicability.objects.filter(current=True).select_related(
                    "item", "decided_by"
                ),
                to_attr="current_applicability",
            ),
        )
        .order_by("order")
    )
    return filtered(ItemFilter, items, filters)


def item_get(framework_key: str, ref_id: str) -> FrameworkItem:
    try:
        return FrameworkItem.objects.select_related("framework").get(
            framework__key=framework_key, ref_id=ref_id
        )
    except FrameworkItem.DoesNotExist:
        raise NotFound(f"No item '{ref_id}' in framework '{framework_key}'.") from None


@dataclass
class MatrixRow:
    item: FrameworkItem
    depth: int
    cells: list[Mapping | None]
    covered_below: bool = False  # an applicable descendant has an active control
    not_applicable: ItemApplicability | None = None  # the version that put it out of scope

    @property
    def covered(self) -> bool:
        return any(cell is not None and cell.control.active for cell in self.cells)

    @property
    def is_gap(self) -> bool:
        """An applicable item with no active control on it nor on anything under it (a NIST
        function whose subcategories are mapped is not a gap; an unmapped subcategory is)."""
        return self.not_applicable is None and not self.covered and not self.covered_below


@dataclass
class Matrix:
    framework: Framework
    controls: list[Control]
    statement: Statement
    rows: list[MatrixRow] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return sum(row.is_gap for row in self.rows)


def framework_matrix(framework: Framework) -> Matrix:
    """Every item (hierarchy order, with depth) against every control, in four queries."""
    controls = list(Control.objects.order_by("ref_id"))
    column = {control.pk: index for index, control in enumerate(controls)}
    cells: dict[int, list[Mapping | None]] = defaultdict(lambda: [None] * len(controls))
    for mapping in Mapping.objects.filter(item__framework=framework).select_related("control"):
        cells[mapping.item_id][column[mapping.control_id]] = mapping
    matrix = Matrix(framework=framework, controls=controls, statement=statement_get(framework))
    depth: dict[int, int] = {}
    rows: dict[int | None, MatrixRow] = {}
    for item in FrameworkItem.objects.filter(framework=framework).order_by("order"):
        depth[item.pk] = depth.get(item.parent_id, -1) + 1 if item.parent_id else 0
        rows[item.pk] = MatrixRow(
            item=item,
            depth=depth[item.pk],
            cells=cells[item.pk],
            not_applicable=matrix.statement.of(item),
        )
        matrix.rows.append(rows[item.pk])
    # Children follow their parents in document order, so one backward pass propagates up;
    # an item out of scope covers nothing above it.
    for row in reversed(matrix.rows):
        parent = rows.get(row.item.parent_id)
        if parent is not None and row.not_applicable is None and (row.covered or row.covered_below):
            parent.covered_below = True
    return matrix


def control_list() -> QuerySet[Control]:
    """Controls with mapping, framework and evidence counts, in one query."""
    return (
        Control.objects.select_related("owner_team", "owner")
        .annotate(
            mappings_count=Count("mappings", distinct=True),
            frameworks_count=Count("mappings__item__framework", distinct=True),
            evidence_count=Count("evidence_files", distinct=True),
        )
        .order_by("ref_id")
    )


def control_get(ref_id: str) -> Control:
    try:
        return Control.objects.select_related("owner_team", "owner").get(ref_id=ref_id)
    except Control.DoesNotExist:
        raise NotFound(f"No control '{ref_id}'.") from None


def control_detail(ref_id: str) -> Control:
    """A control with its mappings (and their items) and evidence files prefetched."""
    try:
        return (
            Control.objects.select_related("owner_team", "owner")
            .prefetch_related(
                Prefetch(
                    "mappings",
                    queryset=Mapping.objects.select_related("item__framework").order_by(
                        "item__framework__key", "item__order"
                    ),
                ),
                Prefetch(
                    "evidence_files",
                    queryset=EvidenceFile.objects.select_related("uploaded_by"),
                ),
            )
            .get(ref_id=ref_id)
        )
    except Control.DoesNotExist:
        raise NotFound(f"No control '{ref_id}'.") from None


def mapping_get(control: Control, framework_key: str, ref_id: str) -> Mapping:
    try:
        return Mapping.objects.select_related("item__framework", "control").get(
            control=control, item__framework__key=framework_key, item__ref_id=ref_id
        )
    except Mapping.DoesNotExist:
        raise NotFound(
            f"Control {control.ref_id} has no mapping to '{ref_id}' in '{framework_key}'."
        ) from None


def mapping_get_by_pk(control: Control, pk: int) -> Mapping:
    """A mapping of this control (HTML forms name mappings by id)."""
    try:
        return Mapping.objects.select_related("item__framework").get(control=control, pk=pk)
    except (Mapping.DoesNotExist, ValueError):
        raise NotFound(f"Control {control.ref_id} has no such mapping.") from None


def evidence_get(pk: int) -> EvidenceFile:
    try:
        return EvidenceFile.objects.select_related("control").get(pk=pk)
    except (EvidenceFile.DoesNotExist, ValueError):
        raise NotFound("No such evidence file.") from None


def items_for_choice() -> QuerySet[FrameworkItem]:
    """Every item, grouped by framework, for a mapping form's select."""
    return FrameworkItem.objects.select_related("framework").order_by("framework__key", "order")


# The controls a policy rule on a capability implements: allowlists/deny rules and
# just-in-time access for every capability, approval as well for a high-risk one.
CAPABILITY_CONTROLS = ("AGC-02", "AGC-03")
HIGH_RISK_CONTROLS = ("AGC-04",)


class RiskRated(Protocol):
    """What the controls need of a capability: whether it is high risk."""

    high_risk: bool


def default_controls_for_capability(capability: RiskRated | None) -> QuerySet[Control]:
    """The active controls an exception on this capability deviates from, by default
    (the exception form pre-selects them; the requester may change the choice)."""
    if capability is None:
        return Control.objects.none()
    refs = CAPABILITY_CONTROLS + (HIGH_RISK_CONTROLS if capability.high_risk else ())
    return Control.objects.filter(ref_id__in=refs, active=True).order_by("ref_id")


def control_owner_choices() -> QuerySet[User]:
    """Who may own a control: active security members (superusers hold security's powers)."""
    return (
        User.objects.filter(Q(groups__name=Role.SECURITY) | Q(is_superuser=True), is_active=True)
        .distinct()
        .order_by("username")
    )


def control_owner_get(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(f"No user '{username}'.") from None
