"""Audrey (auditor) opens the NIST AI RMF report for the last 30 days and downloads it."""

import csv
import io
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from compliance.period import period_parse

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def test_audrey_downloads_the_nist_report_csv_and_an_evidence_package(
    live_server, page: Page, demo
):
    login(page, live_server.url, "audrey")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compliance").click()
    page.get_by_role("link", name="Artificial Intelligence Risk Management Framework").click()
    page.get_by_role("link", name="Audit report").click()

    period = period_parse(None, None)
    expect(page.get_by_test_id("report-period")).to_have_text(
        f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d}"
    )
    expect(page.locator('[data-control="AGC-08"] [data-testid=control-status]')).to_have_text(
        "Effective"
    )
    expect(page.locator('tr[data-ref-id="GOVERN 1.4"]')).to_be_visible()

    with page.expect_download() as download_info:
        page.locator('[data-export="csv"]').click()
    download = download_info.value
    assert download.suggested_filename == (
        f"nist-ai-rmf-1.0_{period.start.isoformat()}_{period.end.isoformat()}.csv"
    )
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert {row["framework"] for row in rows} == {"nist-ai-rmf-1.0"}
    assert any(row["item_ref_id"] == "GOVERN 1.4" and row["control_ref_id"] for row in rows)

    page.get_by_role("button", name="Build evidence package").click()
    link = page.get_by_test_id("package-download")
    expect(link).to_be_visible(timeout=15_000)
    with page.expect_download() as package_info:
        link.click()
    names = zipfile.ZipFile(package_info.value.path()).namelist()
    assert "manifest.json" in names


def test_engineers_are_refused_the_report(live_server, page: Page, demo):
    login(page, live_server.url, "alice")
    response = page.goto(f"{live_server.url}/compliance/nist-ai-rmf-1.0/report/")
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("Only security and auditors export")
