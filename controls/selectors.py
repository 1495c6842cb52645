"""Reads of compliance data: coverage, the items x controls matrix, the crosswalk, controls."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from django.db.models import Count, Model, Prefetch, Q, QuerySet

from controls.models import Control, EvidenceFile, Framework, FrameworkItem, Mapping
from kernel.errors import NotFound

# The crosswalk shown when none is asked for: the two frameworks auditors compare most.
DEFAULT_CROSSWALK = ("owasp-agentic-top10-2026", "nist-ai-rmf-1.0")

# A mapping counts towards coverage only through an active control.
ACTIVE_MAPPING = Q(items__mappings__control__active=True)


def framework_list() -> QuerySet[Framework]:
    """Frameworks with `items_total` and `items_covered` (>= 1 active control), in one query."""
    return Framework.objects.annotate(
        items_total=Count("items", distinct=True),
        items_covered=Count("items", filter=ACTIVE_MAPPING, distinct=True),
    ).order_by("key")


def coverage_percent(framework: Framework) -> float:
    """Share of items with a mapped active control (needs `framework_list` annotations)."""
    total: int = getattr(framework, "items_total", 0)
    covered: int = getattr(framework, "items_covered", 0)
    if not total:
        return 0.0
    return round(100 * covered / total, 1)


def framework_get(key: str) -> Framework:
    try:
        return framework_list().get(key=key)
    except Framework.DoesNotExist:
        raise NotFound(f"No framework with key '{key}'.") from None


def framework_items(framework: Framework, *, kind: str | None = None) -> QuerySet[FrameworkItem]:
    """Items in document order, with their parent and mapped controls prefetched."""
    items = (
        FrameworkItem.objects.filter(framework=framework)
        .select_related("parent")
        .prefetch_related(
            Prefetch(
                "mappings",
                queryset=Mapping.objects.select_related("control").order_by("control__ref_id"),
            )
        )
        .order_by("order")
    )
    if kind:
        items = items.filter(kind=kind)
    return items


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
    covered_below: bool = False  # a descendant has an active control

    @property
    def covered(self) -> bool:
        return any(cell is not None and cell.control.active for cell in self.cells)

    @property
    def is_gap(self) -> bool:
        """No active control on the item nor on anything under it (a NIST function whose
        subcategories are mapped is not a gap; an unmapped subcategory is)."""
        return not self.covered and not self.covered_below


@dataclass
class Matrix:
    framework: Framework
    controls: list[Control]
    rows: list[MatrixRow] = field(default_factory=list)

    @property
    def gaps(self) -> int:
        return sum(row.is_gap for row in self.rows)


def framework_matrix(framework: Framework) -> Matrix:
    """Every item (hierarchy order, with depth) against every control, in three queries."""
    controls = list(Control.objects.order_by("ref_id"))
    column = {control.pk: index for index, control in enumerate(controls)}
    cells: dict[int, list[Mapping | None]] = defaultdict(lambda: [None] * len(controls))
    for mapping in Mapping.objects.filter(item__framework=framework).select_related("control"):
        cells[mapping.item_id][column[mapping.control_id]] = mapping
    matrix = Matrix(framework=framework, controls=controls)
    depth: dict[int, int] = {}
    rows: dict[int | None, MatrixRow] = {}
    for item in FrameworkItem.objects.filter(framework=framework).order_by("order"):
        depth[item.pk] = depth.get(item.parent_id, -1) + 1 if item.parent_id else 0
        rows[item.pk] = MatrixRow(item=item, depth=depth[item.pk], cells=cells[item.pk])
        matrix.rows.append(rows[item.pk])
    # Children follow their parents in document order, so one backward pass propagates up.
    for row in reversed(matrix.rows):
        parent = rows.get(row.item.parent_id)
        if parent is not None and (row.covered or row.covered_below):
            parent.covered_below = True
    return matrix


@dataclass
class CrosswalkMatch:
    item: FrameworkItem
    controls: list[Control]


@dataclass
class CrosswalkRow:
    item: FrameworkItem
    matches: list[CrosswalkMatch]


def crosswalk(a: Framework, b: Framework) -> list[CrosswalkRow]:
    """For each item of `a`, the items of `b` that share at least one active control."""
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
    rows = []
    for item in FrameworkItem.objects.filter(framework=a).order_by("order"):
        shared: dict[int, CrosswalkMatch] = {}
        for control in a_controls.get(item.pk, []):
            for other in b_items_of_control.get(control.pk, []):
                match = shared.setdefault(other.pk, CrosswalkMatch(item=other, controls=[]))
                match.controls.append(control)
        if item.pk in a_controls:
            matches = sorted(shared.values(), key=lambda match: match.item.order)
            rows.append(CrosswalkRow(item=item, matches=matches))
    return rows


def control_list() -> QuerySet[Control]:
    """Controls with mapping, framework and evidence counts, in one query."""
    return (
        Control.objects.select_related("owner_team")
        .annotate(
            mappings_count=Count("mappings", distinct=True),
            frameworks_count=Count("mappings__item__framework", distinct=True),
            evidence_count=Count("evidence_files", distinct=True),
        )
        .order_by("ref_id")
    )


def control_get(ref_id: str) -> Control:
    try:
        return Control.objects.select_related("owner_team").get(ref_id=ref_id)
    except Control.DoesNotExist:
        raise NotFound(f"No control '{ref_id}'.") from None


def control_detail(ref_id: str) -> Control:
    """A control with its mappings (and their items) and evidence files prefetched."""
    try:
        return (
            Control.objects.select_related("owner_team")
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


def owner_team_model() -> type[Model]:
    """The team model a control's owner points at (the registry's, reached through the field,
    so the controls catalogue does not import the registry)."""
    return Control._meta.get_field("owner_team").related_model


def owner_team_get(slug: str) -> Model:
    team_model = owner_team_model()
    try:
        return team_model._default_manager.get(slug=slug)
    except team_model.DoesNotExist:  # type: ignore[attr-defined]
        raise NotFound(f"No team with slug '{slug}'.") from None
