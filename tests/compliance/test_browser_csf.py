"""Sam (security) marks a NIST CSF 2.0 subcategory not applicable in the browser; Audrey
(auditor) reads why on the framework page and in the audit report, and cannot change it."""

import pytest
from playwright.sync_api import Page, expect

from tests.compliance.test_browser import demo, login  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSF_NAME = "The NIST Cybersecurity Framework (CSF) 2.0"
WHY = "The organisation's mission is the board's to state, outside the portal's scope."


def test_sam_marks_an_item_not_applicable_and_audrey_reads_why(
    live_server,
    page: Page,
    demo,  # noqa: F811
):
    login(page, live_server.url, "sam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compliance").click()
    row = page.locator('tr[data-framework="nist-csf-2.0"]')
    expect(row.get_by_test_id("not-applicable")).to_have_text("1")  # the demo's PR.AA-06
    expect(row.locator('[data-shares="nist-ai-rmf-1.0"]')).to_be_visible()
    row.get_by_role("link", name=CSF_NAME).click()

    page.get_by_title("Applicability of GV.OC-01").click()
    page.get_by_label("Applicability", exact=True).select_option("no")
    page.get_by_label("Rationale").fill(WHY)
    page.get_by_role("button", name="Save a new version").click()
    expect(page.get_by_test_id("applicability")).to_contain_text("not applicable since version 2")
    expect(page.get_by_test_id("applicability")).to_contain_text(WHY)

    page.context.clear_cookies()  # signed out
    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}/compliance/nist-csf-2.0/")
    expect(page.get_by_test_id("not-applicable-count")).to_have_text("2")
    statement = page.get_by_role("table", name="Items not applicable")
    expect(statement.locator('tr[data-ref-id="GV.OC-01"]')).to_contain_text(WHY)
    expect(statement.locator('tr[data-ref-id="GV.OC-01"]')).to_contain_text("by sam")

    page.get_by_title("Applicability of GV.OC-01").click()
    expect(page.get_by_role("button", name="Save a new version")).to_have_count(0)

    page.goto(f"{live_server.url}/compliance/nist-csf-2.0/report/")
    expect(page.get_by_test_id("report-not-applicable")).to_have_text("2")
    expect(page.get_by_role("table", name="Items not applicable")).to_contain_text(WHY)
