"""Every record a control checked in a period, beyond the report's few samples.

The report carries counts and samples; the records themselves are listed by the collector's
`population` (compliance/collectors/population.py), a page at a time for the drill-down page
and the API, streamed for the CSV. The JSON report does not embed them: a year of 1,000,000
decisions is over 200 MB of JSON, built in memory; it links each control's records instead
(`records_links`), and the CSVs stream them row by row.
"""

from collections.abc import Iterator
from typing import Any

from django.urls import reverse

from compliance.collectors import collector_for
from compliance.collectors.population import Population
from compliance.period import Period
from controls.models import Control, Framework
from kernel import csv as safe_csv
from kernel.errors import NotFound

RECORD_COLUMNS = [
    "framework",
    "from",
    "to",
    "control_ref_id",
    "kind",
    "record_id",
    "fails_check",
    "description",
    "link",
]


def controls_in_report(framework: Framework) -> list[Control]:
    """The active controls mapped into the framework: those its report judges."""
    return list(
        Control.objects.filter(active=True, mappings__item__framework=framework)
        .select_related("owner", "owner_team")
        .distinct()
        .order_by("ref_id")
    )


def control_in_report(framework: Framework, ref_id: str) -> Control:
    found = (
        Control.objects.filter(active=True, ref_id=ref_id, mappings__item__framework=framework)
        .select_related("owner", "owner_team")
        .first()
    )
    if found is None:
        raise NotFound(
            f"No active control '{ref_id[:40]}' is mapped to {framework.key}: "
            "its report does not judge it."
        )
    return found


def population_of(control: Control, period: Period) -> Population | None:
    """None: no collector reads records for this control (uploaded evidence only)."""
    return collector_for(control.ref_id).population(period)


def period_query(period: Period) -> str:
    return f"from={period.start.isoformat()}&to={period.end.isoformat()}"


def records_links(framework_key: str, ref_id: str, period: Period) -> dict[str, str]:
    """Where a control's records are: the page, the CSV, the API (paths, with the period)."""
    args = [framework_key, ref_id]
    query = period_query(period)
    api = reverse("api-report-records", args=args)
    return {
        "page": f"{reverse('compliance:control-records', args=args)}?{query}",
        "csv": f"{reverse('compliance:control-records-csv', args=args)}?{query}",
        "api": f"{api}?{query}",
    }


class Echo:
    """A file-like object whose write returns the line, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def records_csv_lines(
    framework: Framework, controls: list[Control], period: Period
) -> Iterator[str]:
    """One row per record checked, control after control; read from the database in chunks
    as the response is sent, so a year of decisions never sits in memory."""
    writer = safe_csv.writer(Echo())  # cells a spreadsheet would run come out as text
    yield writer.writerow(RECORD_COLUMNS)
    head: list[Any] = [framework.key, period.start.isoformat(), period.end.isoformat()]
    for control in controls:
        population = population_of(control, period)
        if population is None:
            continue  # no collector: nothing the portal holds to list
        for sample in population:
            yield writer.writerow(
                [
                    *head,
                    control.ref_id,
                    sample.kind,
                    sample.id,
                    "yes" if sample.failed else "no",
                    sample.label,
                    sample.url,
                ]
            )
