"""The report as data: a JSON document, CSV rows (one per item x control), OSCAL results.

The report itself is small (items x mapped controls, with aggregated figures and a few
samples), so these work on the built report; the CSV is still produced row by row for a
streaming response. Items come first, then the controls they refer to. Every record a control
checked is not embedded (a year of decisions is too large): each control links to its records
(records.py), which the records CSV streams.
"""

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from django.urls import reverse

from compliance.collectors import Sample
from compliance.reports.build import ControlResult, ItemResult, Report
from compliance.reports.figures import figure_text, figures_json, figures_line
from compliance.reports.records import Echo, records_links
from controls.models import ItemApplicability
from kernel import csv as safe_csv

REPORT_FORMAT_VERSION = 1
OSCAL_VERSION = "1.1.2"
OSCAL_NS = "https://agent-governance-portal.example/ns/oscal"
CSV_COLUMNS = [
    "framework",
    "from",
    "to",
    "item_ref_id",
    "item_title",
    "item_kind",
    "item_depth",
    "item_status",
    "control_ref_id",
    "control_title",
    "relationship",
    "strength",
    "control_status",
    "checked",
    "failed",
    "evidence_files",
    "exceptions_in_force",
    "figures",
    "samples",
    "notes",
    "item_not_applicable_rationale",
    "control_owner",
    "control_records",
    "retention_notice",
]
STATUS_RULE = (
    "Control: no_evidence when nothing was checked; effective when nothing checked failed; "
    "partially_effective when some failed; not_effective when all failed; excepted when not "
    "(fully) effective but an approved exception naming the control was in force; effective "
    "on uploaded evidence files when there were no records to judge. Item: from its own "
    "controls (or the items below it): all alike -> that status; any not or partially "
    "effective -> partially_effective; else any excepted -> excepted; effective mixed with "
    "no_evidence -> partially_effective; no control -> not_covered. Items security marked "
    "not applicable (the applicability statement) are not_applicable, pass nothing up, and "
    "are left out of coverage."
)


def report_url(report: Report) -> str:
    path = reverse("compliance:report", kwargs={"key": report.framework.key})
    return f"{path}?from={report.period.start.isoformat()}&to={report.period.end.isoformat()}"


def _samples(samples: list[Sample]) -> list[dict[str, Any]]:
    return [sample.as_dict() for sample in samples]


def control_as_dict(report: Report, result: ControlResult) -> dict[str, Any]:
    control = result.control
    return {
        "ref_id": control.ref_id,
        "title": control.title,
        "owner": control.owner.username if control.owner else None,
        "owner_team": control.owner_team.slug if control.owner_team else None,
        "status": str(result.status),
        "collected": result.evidence.collected,
        "checks": result.checks,
        "checked": result.evidence.checked,
        "failed": result.evidence.failed,
        "figures": figures_json(result.evidence.figures),
        "samples": _samples(result.evidence.samples),
        # Every record checked, `checked` of them: a page, a CSV and the API each list them.
        "records": {
            "count": result.evidence.checked,
            **records_links(report.framework.key, control.ref_id, report.period),
        }
        if result.evidence.collected
        else None,
        "evidence_files": {
            "count": result.evidence_files,
            "latest": _samples(result.evidence_file_samples),
        },
        "exceptions_in_force": _samples(result.exceptions),
        "notes": result.notes,
    }


def applicability_as_dict(row: ItemApplicability) -> dict[str, Any]:
    return {
        "rationale": row.rationale,
        "version": row.version,
        "decided_by": row.decided_by.username,
        "decided_at": row.decided_at.isoformat(),
    }


def _item_as_dict(row: ItemResult) -> dict[str, Any]:
    return {
        "ref_id": row.item.ref_id,
        "title": row.item.title,
        "kind": row.item.kind,
        "depth": row.depth,
        "status": str(row.status),
        "rolled_up": row.rolled_up,
        "not_applicable": applicability_as_dict(row.not_applicable) if row.not_applicable else None,
        "controls": [
            {
                "ref_id": link.result.control.ref_id,
                "relationship": link.mapping.relationship,
                "strength": link.mapping.strength,
                "rationale": link.mapping.rationale,
                "status": str(link.result.status),
            }
            for link in row.controls
        ],
    }


def report_as_dict(report: Report) -> dict[str, Any]:
    """The whole report; controls once (with their evidence), items referring to them."""
    return {
        "format_version": REPORT_FORMAT_VERSION,
        "framework": {
            "key": report.framework.key,
            "name": report.framework.name,
            "version": report.framework.version,
        },
        "period": {"from": report.period.start.isoformat(), "to": report.period.end.isoformat()},
        "generated_at": report.generated_at.isoformat(),
        "url": report_url(report),
        "status_rule": STATUS_RULE,
        # Present when the period reaches back past the raw records retention kept.
        "retention": [notice.as_dict() for notice in report.retention],
        "summary": {"items": report.item_counts(), "controls": report.control_counts()},
        "coverage": report.coverage(),
        "applicability": {
            "version": report.statement.version,
            "not_applicable": [
                {"ref_id": row.item.ref_id, "title": row.item.title, **applicability_as_dict(row)}
                for row in report.not_applicable
            ],
        },
        "shares_controls_with": [
            {"key": other.key, "name": other.name, "controls": other.controls}
            for other in report.shared_with
        ],
        "items": [_item_as_dict(row) for row in report.items],
        "controls": [control_as_dict(report, result) for result in report.controls.values()],
    }


def report_json(report: Report) -> str:
    return json.dumps(report_as_dict(report), indent=2, default=str)


def _csv_values(report: Report) -> Iterator[list[Any]]:
    period = [report.period.start.isoformat(), report.period.end.isoformat()]
    notice = " ".join(notice.text for notice in report.retention)
    yield CSV_COLUMNS
    for row in _csv_rows(report, period):
        yield [*row, notice]


def _csv_rows(report: Report, period: list[str]) -> Iterator[list[Any]]:
    for row in report.items:
        item = [
            report.framework.key,
            *period,
            row.item.ref_id,
            row.item.title,
            row.item.kind,
            row.depth,
            str(row.status),
        ]
        why = row.not_applicable.rationale if row.not_applicable else ""
        if not row.controls:
            # Blank up to the rationale, owner and records (the caller adds the notice).
            yield [*item, *[""] * (len(CSV_COLUMNS) - len(item) - 4), why, "", ""]
        for link in row.controls:
            result = link.result
            control = result.control
            records = records_links(report.framework.key, control.ref_id, report.period)
            yield [
                *item,
                result.control.ref_id,
                result.control.title,
                link.mapping.relationship,
                link.mapping.strength,
                str(result.status),
                result.evidence.checked,
                result.evidence.failed,
                result.evidence_files,
                " ".join(sample.id for sample in result.exceptions),
                figures_line(result.evidence.figures),
                "; ".join(f"{s.kind}:{s.id}" for s in result.evidence.samples),
                " ".join(result.notes),
                why,
                control.owner_label if control.owner or control.owner_team else "",
                records["csv"] if result.evidence.collected else "",
            ]


def report_csv_lines(report: Report) -> Iterator[str]:
    writer = safe_csv.writer(Echo())  # cells a spreadsheet would run come out as text
    for values in _csv_values(report):
        yield writer.writerow(values)


def _token(text: str, prefix: str) -> str:
    """An OSCAL token (letters, digits, '.', '-', '_', starting with a letter) for an id."""
    token = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.").lower()
    return token if token[:1].isalpha() else f"{prefix}-{token}"


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": name, "ns": OSCAL_NS, "value": str(value) if str(value) else "-"}


def report_oscal(report: Report) -> dict[str, Any]:
    """OSCAL assessment results: one result for the period, one observation per control,
    one finding per covered applicable item (satisfied when its status is effective), and one
    per item out of scope (implementation status not-applicable, with its rationale)."""
    stamp = report.generated_at.isoformat()
    observation_ids = {ref: str(uuid.uuid4()) for ref in report.controls}
    observations = [
        _oscal_observation(observation_ids[ref], report, result, stamp)
        for ref, result in report.controls.items()
    ]
    findings = [
        _oscal_not_applicable(row, row.not_applicable)
        if row.not_applicable
        else _oscal_finding(row, observation_ids)
        for row in report.items
        if row.controls or row.not_applicable
    ]
    assessment: dict[str, Any] = {
        "uuid": str(uuid.uuid4()),
        "title": f"{report.framework.name}, {report.period}",
        "description": f"Controls mapped to {report.framework.key}, assessed from the "
        f"portal's records for {report.period}. {STATUS_RULE}"
        + "".join(f" {notice.text}" for notice in report.retention),
        "start": report.period.since.isoformat(),
        "end": report.period.until.isoformat(),
        "reviewed-controls": {
            "control-selections": [
                {
                    "include-controls": [
                        {"control-id": _token(ref, "control")} for ref in report.controls
                    ]
                    or [{"control-id": "none"}]
                }
            ]
        },
        "observations": observations,
        "findings": findings,
    }
    if not observations:
        del assessment["observations"]
    if not findings:
        del assessment["findings"]
    return {
        "assessment-results": {
            "uuid": str(uuid.uuid4()),
            "metadata": _oscal_metadata(report, stamp),
            "import-ap": {"href": report_url(report)},
            "results": [assessment],
        }
    }


def _oscal_metadata(report: Report, stamp: str) -> dict[str, Any]:
    return {
        "title": f"Agent governance assessment: {report.framework.name}",
        "last-modified": stamp,
        "version": str(REPORT_FORMAT_VERSION),
        "oscal-version": OSCAL_VERSION,
        "props": [
            _prop("framework", report.framework.key),
            _prop("period-from", report.period.start.isoformat()),
            _prop("period-to", report.period.end.isoformat()),
            _prop("applicability-statement-version", report.statement.version),
            _prop("items-not-applicable", len(report.not_applicable)),
            *(_prop("shares-controls-with", other.key) for other in report.shared_with),
            *(
                _prop(f"raw-{notice.log}-retained-since", notice.retained_since.isoformat())
                for notice in report.retention
            ),
        ],
    }


def _oscal_observation(
    observation_id: str, report: Report, result: ControlResult, stamp: str
) -> dict[str, Any]:
    ref = result.control.ref_id
    evidence = [
        {"href": sample.url or f"#{sample.kind}-{sample.id}", "description": sample.label}
        for sample in result.evidence.samples + result.evidence_file_samples
    ]
    if result.evidence.collected:
        records = records_links(report.framework.key, ref, report.period)
        evidence.append(
            {
                "href": records["csv"],
                "description": f"All {result.evidence.checked} records checked",
            }
        )
    observation: dict[str, Any] = {
        "uuid": observation_id,
        "title": f"{ref} {result.control.title}",
        "description": f"{result.checks}. Checked {result.evidence.checked}, failed "
        f"{result.evidence.failed}. " + " ".join(result.notes),
        "props": [
            _prop("control-status", result.status),
            _prop("checked", result.evidence.checked),
            _prop("failed", result.evidence.failed),
            _prop("evidence-files", result.evidence_files),
            _prop("exceptions-in-force", len(result.exceptions)),
            *(
                _prop(_token(k, "figure"), figure_text(k, v))
                for k, v in result.evidence.figures.items()
            ),
        ],
        "methods": ["TEST"] if result.evidence.collected else ["EXAMINE"],
        "types": ["control-objective"],
        "collected": stamp,
    }
    if evidence:
        observation["relevant-evidence"] = evidence
    return observation


def _oscal_finding(row: ItemResult, observation_ids: dict[str, str]) -> dict[str, Any]:
    satisfied = row.status == "effective"
    return {
        "uuid": str(uuid.uuid4()),
        "title": row.item.label[:300],
        "description": f"{row.item.ref_id}: {row.status.replace('_', ' ')} "
        f"({', '.join(link.result.control.ref_id for link in row.controls)}).",
        "props": [_prop("item-status", row.status)],
        "target": {
            "type": "objective-id",
            "target-id": _token(row.item.ref_id, "item"),
            "title": row.item.ref_id,
            "status": {
                "state": "satisfied" if satisfied else "not-satisfied",
                "reason": "pass" if satisfied else "fail",
            },
        },
        "related-observations": [
            {"observation-uuid": observation_ids[link.result.control.ref_id]}
            for link in row.controls
        ],
    }


def _oscal_not_applicable(row: ItemResult, statement: ItemApplicability) -> dict[str, Any]:
    """An item security put out of scope: no judgement of controls, the statement's words."""
    why = (
        f"Not applicable (applicability statement version {statement.version}, "
        f"{statement.decided_by.username}, {statement.decided_at:%Y-%m-%d}): {statement.rationale}"
    )
    return {
        "uuid": str(uuid.uuid4()),
        "title": row.item.label[:300],
        "description": f"{row.item.ref_id}: {why}",
        "props": [
            _prop("item-status", row.status),
            _prop("applicability-version", statement.version),
        ],
        "target": {
            "type": "objective-id",
            "target-id": _token(row.item.ref_id, "item"),
            "title": row.item.ref_id,
            "status": {"state": "satisfied", "reason": "other", "remarks": why},
            "implementation-status": {"state": "not-applicable", "remarks": statement.rationale},
        },
    }
