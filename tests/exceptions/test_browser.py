"""In a real browser: alice asks for a high-risk exception, sam and sara approve, it is active;
another she withdraws before it is decided, and security no longer sees it."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from exceptions import services
from registry.models import Agent, Capability
from tests.portal.test_accessibility import axe_source, check  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # screenshots (gitignored)


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def approve_on_the_page(page: Page, base: str, exception_id: str, comment: str) -> None:
    page.goto(f"{base}/exceptions/{exception_id}/")
    page.get_by_label("approval comment").fill(comment)
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_contain_text(f"#{exception_id}")


def test_alice_asks_sam_and_sara_approve_alice_sees_it_active(live_server, page: Page, demo):
    base = live_server.url
    login(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exceptions").click()
    page.get_by_role("link", name="Request an exception").click()
    page.get_by_label("Title").fill("Rotate the payments signing key")
    page.get_by_label("Agent").select_option("payments-fixer")
    page.get_by_label("Capability").select_option("vault:read_secret")
    # The hint reads each risk's approvals from the limits table the server rendered: change
    # the table's number and the hint follows it.
    page.get_by_label("Risk", exact=True).select_option("low")
    expect(page.get_by_test_id("risk-hint")).to_contain_text("; needs one security approval.")
    page.locator('tr[data-risk="medium"]').evaluate("row => { row.dataset.approvals = '3'; }")
    page.get_by_label("Risk", exact=True).select_option("medium")
    expect(page.get_by_test_id("risk-hint")).to_contain_text("needs three distinct security")
    # vault:read_secret is high-risk and payments-fixer is production: critical at least.
    page.get_by_label("Risk", exact=True).select_option("critical")
    expect(page.get_by_test_id("risk-hint")).to_contain_text("critical risk: at most 14 days")
    expect(page.get_by_test_id("risk-hint")).to_contain_text("two distinct security approvers")
    expires = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Expires at (UTC)").fill(expires)
    page.get_by_label("Justification").fill("Key rotation after INC-2041.")
    page.get_by_label("Compensating controls").fill("Every read alerts #sec-alerts.")
    page.get_by_role("button", name="Submit exception").click()
    expect(page.get_by_role("status").first).to_contain_text("needs 2 security approvals.")
    expect(page.get_by_test_id("exception-status")).to_have_text("pending")
    exception_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    login(page, base, "sam")
    approve_on_the_page(page, base, exception_id, "Scope is right.")
    expect(page.get_by_test_id("exception-status")).to_have_text("pending")
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    login(page, base, "sara")
    approve_on_the_page(page, base, exception_id, "Agreed.")
    expect(page.get_by_test_id("exception-status")).to_have_text("active")
    expect(page.get_by_test_id("approvals")).to_contain_text("sam approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("sara approved")

    login(page, base, "alice")
    page.goto(f"{base}/agents/payments-fixer/")
    row = page.locator(f'[data-section="exceptions"] tr[data-exception="{exception_id}"]')
    expect(row).to_contain_text("Rotate the payments signing key")
    expect(row).to_contain_text("vault:read_secret")
    expect(row.get_by_test_id("exception-status")).to_have_text("active")


def test_alice_withdraws_her_request_and_security_no_longer_sees_it(
    live_server,
    page: Page,
    demo,
    axe_source,  # noqa: F811 (the fixture imported above)
):
    base = live_server.url
    filed = services.exception_request(
        actor=User.objects.get(username="alice"),
        title="Read the staging vault",
        agent=Agent.objects.get(slug="payments-fixer"),
        capability=Capability.objects.get(key="vault:read_secret"),
        justification="Filed for the wrong agent.",
        risk="critical",
        expires_at=timezone.now() + timedelta(days=5),
        compensating_controls="Every read alerts #sec-alerts.",
    )
    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    expect(page.locator("main")).to_contain_text("Read the staging vault")

    login(page, base, "alice")
    page.goto(f"{base}/exceptions/{filed.pk}/")
    dialog = page.locator(f"#confirm-exceptions-withdraw-{filed.pk}")
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="Withdraw this request…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(
        f"Withdraw exception request #{filed.pk}: Read the staging vault?"
    )
    assert check(page, axe_source, "withdraw dialog") == []
    dialog.get_by_role("button", name="Withdraw request").click()

    expect(page.get_by_role("status").first).to_have_text(
        f"Exception request #{filed.pk} withdrawn: security no longer sees it."
    )
    expect(page.get_by_test_id("exception-status")).to_have_text("withdrawn")
    expect(page.get_by_test_id("withdrawn")).to_contain_text("by alice")
    expect(page.get_by_role("link", name="Withdraw this request…")).to_have_count(0)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exception-withdrawn.png"), full_page=True)

    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    expect(page.locator("main")).not_to_contain_text("Read the staging vault")
