"""Busy states on the audit report, in Chromium: the evidence package button and the export
links say what they are doing and refuse a second click while they work; the message says
"built" or "building in the background" as it happened; without JavaScript everything still
works as plain links and forms. And AGC-05's card holds its timestamps."""

import re
import threading
import time

import pytest
from playwright.sync_api import Browser, Page, expect

from compliance import packages
from compliance import views as compliance_views
from compliance.period import period_parse
from compliance.reports import pdf
from kernel import outbox
from tests.compliance.test_browser import demo, login  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REPORT = "/compliance/nist-ai-rmf-1.0/report/"


def _slowly(monkeypatch, module, name: str, seconds: float) -> None:
    """Make `module.name` take `seconds` longer, so a test can see the page while it works."""
    original = getattr(module, name)

    def slow(*args, **kwargs):
        time.sleep(seconds)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, slow)


def _package_button(page: Page):
    return page.locator("form[data-package-form] button")


def test_the_package_button_is_busy_until_the_download_link_shows(
    live_server,
    page: Page,
    demo,  # noqa: F811
    monkeypatch,
):
    _slowly(monkeypatch, packages, "_write_zip", 1.5)  # the issue saw 1.5 s on demo data
    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}{REPORT}")
    button = _package_button(page)
    button.click()
    expect(button).to_be_disabled()
    expect(button).to_have_text(re.compile(r"Requesting the package…|Building… \d+%"))
    expect(button).to_have_attribute("aria-busy", "true")
    link = page.get_by_test_id("package-download")
    expect(link).to_be_visible(timeout=15_000)
    expect(button).to_be_enabled()
    expect(button).to_have_text("Build evidence package")
    message = page.locator("[data-package-message]")
    expect(message).to_contain_text(re.compile(r"Evidence package #\d+ built: download it below"))
    expect(message).not_to_contain_text("background")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".zip")


def test_a_package_built_later_shows_its_progress_then_the_link(
    live_server,
    page: Page,
    demo,  # noqa: F811
    monkeypatch,
):
    monkeypatch.setattr(outbox, "nudge", lambda: None)  # a broker: a worker builds it later
    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}{REPORT}")
    button = _package_button(page)
    button.click()
    message = page.locator("[data-package-message]")
    expect(message).to_contain_text("is building in the background; this page updates")
    expect(button).to_be_disabled()
    expect(button).to_have_text("Building… 0%")
    row = page.locator("tr[data-package]").first
    expect(row.locator(".package-status")).to_have_text("Pending")
    # The worker picks it up; the page, polling, follows.
    worker = threading.Thread(target=outbox.dispatch_due)
    worker.start()
    worker.join(timeout=60)
    expect(page.get_by_test_id("package-download")).to_be_visible(timeout=15_000)
    expect(button).to_be_enabled()
    expect(message).to_contain_text(re.compile(r"Evidence package #\d+ built: download it below"))


def test_export_links_are_busy_while_the_file_is_prepared(
    live_server,
    page: Page,
    demo,  # noqa: F811
    monkeypatch,
):
    _slowly(monkeypatch, compliance_views, "report_build", 1.0)
    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}{REPORT}")
    period = period_parse(None, None)
    formats = [("csv", "Preparing the CSV…", ".csv"), ("json", "Preparing the JSON…", ".json")]
    if pdf.available():
        formats.append(("pdf", "Rendering the PDF", ".pdf"))
    for fmt, busy, suffix in formats:
        link = page.locator(f'[data-export="{fmt}"]')
        with page.expect_download(timeout=60_000) as download:
            link.click()
            expect(link).to_have_attribute("aria-disabled", "true")
            expect(link).to_contain_text(busy)
        name = f"nist-ai-rmf-1.0_{period.start.isoformat()}_{period.end.isoformat()}{suffix}"
        assert download.value.suggested_filename == name
        expect(link).not_to_have_attribute("aria-disabled", "true")
        expect(page.locator("[data-export-status]")).to_contain_text(f"{name} downloaded")


def test_without_javascript_the_links_and_the_form_still_work(
    live_server,
    browser: Browser,
    demo,  # noqa: F811
):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    login(page, live_server.url, "audrey")
    page.goto(f"{live_server.url}{REPORT}")
    with page.expect_download() as download:
        page.locator('[data-export="csv"]').click()
    assert download.value.suggested_filename.endswith(".csv")
    _package_button(page).click()
    expect(page.get_by_role("list").filter(has_text="built: download it below")).to_be_visible()
    expect(page.get_by_test_id("package-download")).to_be_visible()
    context.close()


def test_agc05_card_holds_its_figures(
    live_server,
    page: Page,
    demo,  # noqa: F811
):
    login(page, live_server.url, "audrey")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{REPORT}")
        card = page.locator('[data-control="AGC-05"]')
        expect(card.locator(".figures")).to_contain_text(
            re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
        )
        overflowing = card.evaluate(
            """card => [card, ...card.querySelectorAll('.figures div, .figures strong')]
                 .filter(el => el.scrollWidth > el.clientWidth + 1).length"""
        )
        assert overflowing == 0, width
        assert "None" not in card.inner_text()
