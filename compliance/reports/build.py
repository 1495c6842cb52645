"""The audit report: framework + period -> items -> mapped controls -> status and evidence.

Each control mapped into the framework is collected once per report, whatever the number
of items it maps to; items, mappings, evidence files and exceptions are each read in one
query. The number of queries therefore depends on the controls mapped (eleven shipped), never
on the number of items or on the records in the period.

An item's status rolls up from its own active controls (or, for an item with none, from
the items below it, e.g. a NIST AI RMF function from its subcategories):

    no control on it nor below      -> not_covered
    every status the same           -> that status
    any not_effective or partially_effective (and not all not_effective)
                                    -> partially_effective
    the rest effective, no_evidence or excepted, at least one excepted
                                    -> excepted
    effective mixed with no_evidence -> partially_effective (part of it is unevidenced)

An item security marked not applicable (the framework's applicability statement) is
`not_applicable` whatever its controls, counts in no other status nor in coverage, and passes
nothing up to the item above it; the report lists it with its rationale.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils import timezone

from compliance.collectors import Evidence, Sample, Status, collector_for
from compliance.collectors.base import SAMPLE_SIZE
from compliance.period import Period
from compliance.reports import exceptions as report_exceptions
from compliance.reports.figures import figure_text
from compliance.reports.retention import RetentionNotice, retention_notices
from controls.applicability import Statement, statement_get
from controls.crosswalks import SharedFramework, frameworks_sharing_controls
from controls.models import (
    Control,
    EvidenceFile,
    Framework,
    FrameworkItem,
    ItemApplicability,
    Mapping,
)
from controls.selectors import percent

NOT_COVERED = "not_covered"
NOT_APPLICABLE = "not_applicable"
STATUS_ORDER = [
    Status.NOT_EFFECTIVE,
    Status.PARTIALLY_EFFECTIVE,
    Status.EXCEPTED,
    Status.NO_EVIDENCE,
    Status.EFFECTIVE,
    NOT_COVERED,
]


def status_label(status: str) -> str:
    return str(status).replace("_", " ").capitalize()


ON_UPLOADED_EVIDENCE = "Effective on uploaded evidence only: no records to judge in the period."
EXCEPTED_NOTE = "Deviation accepted: an approved exception naming this control was in force."


@dataclass
class ControlResult:
    control: Control
    status: Status
    evidence: Evidence
    checks: str
    evidence_files: int = 0
    evidence_file_samples: list[Sample] = field(default_factory=list)
    exceptions: list[Sample] = field(default_factory=list)

    @property
    def status_label(self) -> str:
        return status_label(self.status)

    @property
    def figure_rows(self) -> list[tuple[str, str]]:
        return [(status_label(k), figure_text(k, v)) for k, v in self.evidence.figures.items()]

    @property
    def notes(self) -> list[str]:
        notes = list(self.evidence.notes)
        if self.status == Status.EXCEPTED:
            notes.append(EXCEPTED_NOTE)
        if self.status == Status.EFFECTIVE and self.evidence.status == Status.NO_EVIDENCE:
            notes.append(ON_UPLOADED_EVIDENCE)
        return notes


@dataclass
class ItemControl:
    mapping: Mapping
    result: ControlResult


@dataclass
class ItemResult:
    item: FrameworkItem
    depth: int
    controls: list[ItemControl]
    status: str = NOT_COVERED
    rolled_up: bool = False  # status taken from the items below (none of its own)
    not_applicable: ItemApplicability | None = None  # the version that put it out of scope

    @property
    def status_label(self) -> str:
        return status_label(self.status)


@dataclass
class Report:
    framework: Framework
    period: Period
    generated_at: datetime
    items: list[ItemResult]
    controls: dict[str, ControlResult]
    statement: Statement
    shared_with: list[SharedFramework] = field(default_factory=list)
    # Raw records the period reaches back to but retention dropped: said, not read as zeros.
    retention: list[RetentionNotice] = field(default_factory=list)

    def summary_rows(self) -> list[tuple[str, str, int, int]]:
        """(status, label, items, controls) for the summary table; not applicable last."""
        items, controls = self.item_counts(), self.control_counts()
        return [
            (s, status_label(s), items[s], controls.get(s, 0))
            for s in [*STATUS_ORDER, NOT_APPLICABLE]
        ]

    def item_counts(self) -> dict[str, int]:
        counts = dict.fromkeys([*STATUS_ORDER, NOT_APPLICABLE], 0)
        for item in self.items:
            counts[item.status] += 1
        return counts

    def control_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_ORDER[:-1], 0)
        for result in self.controls.values():
            counts[result.status] += 1
        return counts

    @property
    def not_applicable(self) -> list[ItemApplicability]:
        return self.statement.not_applicable

    def coverage(self) -> dict[str, float | int]:
        """What /compliance/ shows: applicable items with an active control of their own."""
        applicable = [row for row in self.items if row.not_applicable is None]
        covered = sum(1 for row in applicable if row.controls)
        return {
            "items": len(self.items),
            "not_applicable": len(self.items) - len(applicable),
            "applicable": len(applicable),
            "covered": covered,
            "percent": percent(covered, len(applicable)),
        }


def rollup(statuses: list[str]) -> str:
    """An item's status from its controls' statuses (rule in the module docstring)."""
    found = set(statuses)
    if not found:
        return NOT_COVERED
    if len(found) == 1:
        return statuses[0]
    if found & {Status.NOT_EFFECTIVE, Status.PARTIALLY_EFFECTIVE}:
        return Status.PARTIALLY_EFFECTIVE
    if Status.EXCEPTED in found:
        return Status.EXCEPTED
    return Status.PARTIALLY_EFFECTIVE


def control_status(evidence: Evidence, *, evidence_files: int, exceptions: int) -> Status:
    """The collector's status, adjusted for accepted deviations and uploaded evidence."""
    status = evidence.status
    if status in (Status.PARTIALLY_EFFECTIVE, Status.NOT_EFFECTIVE) and exceptions:
        return Status.EXCEPTED
    if status == Status.NO_EVIDENCE and evidence_files:
        return Status.EFFECTIVE
    return status


def evidence_files_in_period(
    controls: list[Control] | QuerySet[Control], period: Period
) -> QuerySet[EvidenceFile]:
    return EvidenceFile.objects.filter(
        control__in=controls, effective_on__gte=period.start, effective_on__lte=period.end
    )


def _evidence_files(
    controls: list[Control], period: Period
) -> tuple[dict[int, int], dict[int, list[Sample]]]:
    """Per control: how many files are effective in the period, and the latest few."""
    files = evidence_files_in_period(controls, period)
    counts = dict(files.values("control_id").annotate(n=Count("pk")).values_list("control_id", "n"))
    latest = files.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F("control_id")],
            order_by=[F("effective_on").desc(), F("pk").desc()],
        )
    ).filter(rank__lte=SAMPLE_SIZE)
    samples: dict[int, list[Sample]] = defaultdict(list)
    for pk, control_id, name, effective_on, sha256 in latest.values_list(
        "pk", "control_id", "original_name", "effective_on", "sha256"
    ).order_by("control_id", "-effective_on", "-pk"):
        samples[control_id].append(
            Sample(
                kind="evidence_file",
                id=str(pk),
                label=f"{name} (effective {effective_on:%Y-%m-%d}, SHA-256 {sha256[:12]}…)",
                url=reverse("controls:evidence-download", kwargs={"pk": pk}),
            )
        )
    return counts, samples


def collect_controls(controls: list[Control], period: Period) -> dict[str, ControlResult]:
    """Every control collected once, with its evidence files and exceptions in force."""
    file_counts, file_samples = _evidence_files(controls, period)
    in_force = report_exceptions.exceptions_in_force(controls, period)
    results = {}
    for control in sorted(controls, key=lambda c: c.ref_id):
        collector = collector_for(control.ref_id)
        evidence = collector.collect(period)
        exceptions = in_force.get(control.pk, [])
        results[control.ref_id] = ControlResult(
            control=control,
            status=control_status(
                evidence,
                evidence_files=file_counts.get(control.pk, 0),
                exceptions=len(exceptions),
            ),
            evidence=evidence,
            checks=collector.checks,
            evidence_files=file_counts.get(control.pk, 0),
            evidence_file_samples=file_samples.get(control.pk, []),
            exceptions=exceptions,
        )
    return results


def item_rows(
    framework: Framework,
    statement: Statement,
    by_item: dict[int, list[Mapping]],
    results: dict[str, ControlResult],
) -> list[ItemResult]:
    """Every item in document order with its own controls' status, then rolled up."""
    items: list[ItemResult] = []
    depth: dict[int, int] = {}
    for item in FrameworkItem.objects.filter(framework=framework).order_by("order"):
        depth[item.pk] = depth[item.parent_id] + 1 if item.parent_id in depth else 0
        row = ItemResult(
            item=item,
            depth=depth[item.pk],
            controls=[
                ItemControl(mapping=m, result=results[m.control.ref_id])
                for m in by_item.get(item.pk, [])
            ],
            not_applicable=statement.of(item),
        )
        row.status = (
            NOT_APPLICABLE
            if row.not_applicable
            else rollup([c.result.status for c in row.controls])
        )
        items.append(row)
    # Children follow their parents in document order: one backward pass rolls statuses up.
    below: dict[int, list[str]] = defaultdict(list)
    for row in reversed(items):
        if row.not_applicable:
            continue
        if not row.controls and below.get(row.item.pk):
            row.status = rollup(below[row.item.pk])
            row.rolled_up = True
        if row.item.parent_id and row.status != NOT_COVERED:
            below[row.item.parent_id].append(row.status)
    return items


def report_build(framework: Framework, period: Period) -> Report:
    mappings = (
        Mapping.objects.filter(item__framework=framework, control__active=True)
        .select_related("control__owner_team", "control__owner")
        .order_by("control__ref_id")
    )
    by_item: dict[int, list[Mapping]] = defaultdict(list)
    controls: dict[int, Control] = {}
    for mapping in mappings:
        by_item[mapping.item_id].append(mapping)
        controls[mapping.control_id] = mapping.control
    results = collect_controls(list(controls.values()), period)
    statement = statement_get(framework)
    return Report(
        framework=framework,
        period=period,
        generated_at=timezone.now(),
        items=item_rows(framework, statement, by_item, results),
        controls=results,
        statement=statement,
        shared_with=frameworks_sharing_controls().get(framework.key, []),
        retention=retention_notices(period),
    )
