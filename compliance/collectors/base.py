"""What a collector returns and how a control's status follows from it.

Every collector examines, for a period, a set of things the control is about (policy
versions, high-risk rules, grants, agents, flagged actions...) and counts how many it
checked and how many failed the control. The status then follows one rule for all controls:

    checked == 0                 -> no_evidence          (nothing in the period to judge)
    failed == 0                  -> effective
    0 < failed < checked         -> partially_effective
    failed == checked            -> not_effective

and two adjustments made by the report, which knows more than one collector:

    partially/not effective, and an approved exception naming the control was in force
    during the period            -> excepted             (the deviation was accepted)
    no_evidence, and uploaded evidence files are effective in the period
                                 -> effective            (on uploaded evidence)

Collectors aggregate in the database (Count/Max/Exists, filtered) and fetch at most a few
sample rows: the number of queries of a collector never depends on the number of records.
Every record behind `checked` is listed by `population(period)` (population.py), which only
the drill-down page and the records exports read, a page or a chunk at a time.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db.models import Aggregate, Case, Count, Exists, IntegerField, Q, QuerySet, Value, When

from compliance.collectors.population import Population, Sample
from compliance.period import Period

SAMPLE_SIZE = 5


class Status(StrEnum):
    EFFECTIVE = "effective"
    PARTIALLY_EFFECTIVE = "partially_effective"
    NOT_EFFECTIVE = "not_effective"
    EXCEPTED = "excepted"
    NO_EVIDENCE = "no_evidence"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass
class Evidence:
    """A collector's answer for one period."""

    checked: int = 0
    failed: int = 0
    figures: dict[str, Any] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    collected: bool = True  # False: no automated collector could read records for it

    @property
    def status(self) -> Status:
        if self.checked <= 0:
            return Status.NO_EVIDENCE
        if self.failed <= 0:
            return Status.EFFECTIVE
        if self.failed < self.checked:
            return Status.PARTIALLY_EFFECTIVE
        return Status.NOT_EFFECTIVE


def tally(rows: QuerySet[Any], failing: Q, figures: dict[str, Q | Aggregate]) -> Evidence:
    """Evidence counting `rows` (checked) and those `failing`, in one query with its figures.

    Each figure is a Q (the number of rows matching it) or an aggregate taken as is; the
    caller adds samples and turns non-numeric figures (dates, durations) into text.
    """
    # Positional aliases: a figure's name may clash with a field of the model.
    aliases = {f"figure_{i}": name for i, name in enumerate(figures)}
    counts = rows.aggregate(
        checked=Count("pk"),
        failed=Count("pk", filter=failing),
        **{
            alias: Count("pk", filter=figure) if isinstance(figure, Q) else figure
            for alias, figure in zip(aliases, figures.values(), strict=True)
        },
    )
    return Evidence(
        checked=counts["checked"],
        failed=counts["failed"],
        figures={name: counts[alias] for alias, name in aliases.items()},
    )


def flag(condition: Q | Exists) -> Case:
    """1 where `condition` holds, else 0 (an annotation a sample says "failed" by)."""
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


def failing_first(rows: QuerySet[Any], failing: Q, *order: str) -> QuerySet[Any]:
    """`rows` with `failing` (1 or 0) annotated, the failing first, then by `order`: what a
    collector's samples and population list."""
    return rows.annotate(failing=flag(failing)).order_by("-failing", *order)


class Collector:
    """One per control, registered under the control's ref_id.

    `checks` says in one line what is counted as checked and what as failed: the report
    shows it next to the figures, so an auditor can read the rule behind the status.
    """

    ref_id: str
    checks: str

    def collect(self, period: Period) -> Evidence:
        raise NotImplementedError

    def population(self, period: Period) -> Population | None:
        """Every record counted in `checked` for the period, failing ones first where the
        order allows, as many as `checked`; None when the collector reads no records."""
        return None


class Unavailable(Collector):
    """A control whose records the portal does not hold (yet): says so, never pretends."""

    def __init__(self, ref_id: str, reason: str) -> None:
        self.ref_id = ref_id
        self.checks = reason

    def collect(self, period: Period) -> Evidence:
        return Evidence(collected=False, notes=[self.checks])
