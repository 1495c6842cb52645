"""A report or evidence package over a period reaching back past what retention kept says so
(in the page, the printable report, JSON, CSV, OSCAL and the package's manifest) instead of
showing that time as a quiet one; a period inside retention says nothing of it."""

import csv
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest
from django.template.loader import render_to_string
from django.utils import timezone
from trestle.oscal.assessment_results import AssessmentResults

from compliance import package_requests
from compliance.period import Period
from compliance.reports.build import report_build
from compliance.tasks import build_evidence_package
from controls.models import Framework
from decisions import retention
from decisions.models import PrunedPartition

pytestmark = pytest.mark.django_db

NIST = "nist-ai-rmf-1.0"
PAGE = f"/compliance/{NIST}/report/"
KEPT_FROM = datetime(2025, 10, 1, tzinfo=UTC)
ACROSS = {"from": "2025-09-01", "to": "2025-10-31"}  # starts a month before what is kept
INSIDE = {"from": "2025-10-01", "to": "2025-10-31"}


@pytest.fixture
def pruned():
    """What retention writes when it dropped September 2025 of the decision log."""
    return PrunedPartition.objects.create(
        log="decisions",
        partition="decisions_decision_p2025_09",
        range_start=datetime(2025, 9, 1, tzinfo=UTC),
        range_end=KEPT_FROM,
        rows=1234,
        pruned_at=timezone.now(),
        pruned_by=retention.TASK,
    )


def _get(client, url, period):
    response = client.get(url, period)
    assert response.status_code == 200, url
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_report_says_the_raw_records_before_retention_are_gone(client, auditor, pruned):
    client.force_login(auditor)
    page = _get(client, PAGE, ACROSS)
    assert 'data-testid="retention-notice"' in page
    assert "Outside retention:" in page
    assert "the raw decision records kept: those before 2025-10-01 00:00 UTC" in page
    assert "gone by retention" in page
    assert "Counts for closed days come from the daily rollups where they exist" in page
    assert "cover only 2025-10-01 to 2025-10-31" in page
    report = report_build(
        Framework.objects.get(key=NIST), Period(date(2025, 9, 1), date(2025, 10, 31))
    )
    printable = render_to_string("compliance/report_print.html", {"report": report})
    assert "gone by retention" in printable


def test_every_export_carries_the_notice(client, auditor, pruned):
    client.force_login(auditor)
    data = json.loads(_get(client, f"{PAGE}json/", ACROSS))
    [notice] = data["retention"]
    assert notice["log"] == "decisions"
    assert notice["retained_since"] == "2025-10-01T00:00:00+00:00"
    assert "gone by retention" in notice["text"]
    rows = list(csv.DictReader(io.StringIO(_get(client, f"{PAGE}csv/", ACROSS))))
    assert rows
    assert all("gone by retention" in row["retention_notice"] for row in rows)
    oscal = json.loads(_get(client, f"{PAGE}oscal/", ACROSS))
    AssessmentResults.model_validate(oscal["assessment-results"])
    props = {p["name"]: p["value"] for p in oscal["assessment-results"]["metadata"]["props"]}
    assert props["raw-decisions-retained-since"] == "2025-10-01T00:00:00+00:00"
    assert "gone by retention" in oscal["assessment-results"]["results"][0]["description"]


def test_a_period_inside_retention_says_nothing_of_it(client, auditor, pruned):
    client.force_login(auditor)
    assert "retention-notice" not in _get(client, PAGE, INSIDE)
    assert json.loads(_get(client, f"{PAGE}json/", INSIDE))["retention"] == []
    rows = list(csv.DictReader(io.StringIO(_get(client, f"{PAGE}csv/", INSIDE))))
    assert {row["retention_notice"] for row in rows} == {""}


def test_nothing_pruned_yet_means_no_notice_however_old_the_period(client, auditor):
    client.force_login(auditor)
    assert "retention-notice" not in _get(client, PAGE, {"from": "2020-01-01", "to": "2020-12-31"})


def test_a_period_wholly_before_retention_says_none_of_it_is_covered(pruned):
    report = report_build(
        Framework.objects.get(key=NIST), Period(date(2025, 9, 1), date(2025, 9, 30))
    )
    [notice] = report.retention
    assert "cover none of this period" in notice.text


def test_the_evidence_package_manifest_and_report_files_carry_the_notice(auditor, pruned):
    package = package_requests.package_request(
        actor=auditor,
        framework=Framework.objects.get(key=NIST),
        period=Period(date(2025, 9, 1), date(2025, 10, 31)),
    )
    build_evidence_package.delay(package.pk)
    package.refresh_from_db()
    with package.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert [n["retained_since"] for n in manifest["retention"]] == ["2025-10-01T00:00:00+00:00"]
    reports = [name for name in archive.namelist() if name.startswith("report/")]
    assert len(reports) == 4
    for name in reports:
        assert "gone by retention" in archive.read(name).decode(), name
