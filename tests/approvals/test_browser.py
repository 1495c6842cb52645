"""In a real browser (issue #15, points 1, 3 and 9): sam approves a high-risk production request
with its context in view and is told a second approver is needed; sam revokes a grant from the
agent's page through the confirmation dialog. Screenshots go to tests/artifacts/ (gitignored)."""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from access.models import Grant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Console errors of the page (a CSP refusal of an inline script would be one)."""
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def test_sam_approves_a_high_risk_production_request_with_its_context(
    live_server, page: Page, demo, console_errors
):
    base = live_server.url
    login(page, base, "alice")
    page.goto(f"{base}/requests/new/")
    page.get_by_label("Agent").select_option("payments-fixer")
    page.get_by_label("Capability").select_option("github:merge")
    page.get_by_label("Duration (hours)").fill("3")
    page.get_by_label("Scope").fill("acme/payments-api")
    page.get_by_label("Ticket").fill("PAY-812")
    page.get_by_label("Justification").fill("Merge the reviewed hotfix PR #812.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_test_id("request-status")).to_have_text("pending")
    request_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    row = page.locator(f'tr[data-request="{request_id}"]')
    asked = row.get_by_test_id("access-asked")
    expect(asked.get_by_test_id("scope")).to_have_text("acme/payments-api")
    expect(asked.get_by_test_id("ticket")).to_have_text("PAY-812")
    expect(asked).to_contain_text("3 h")
    expect(row).to_contain_text("Merge the reviewed hotfix PR #812.")
    expect(row.get_by_test_id("approver-rule")).to_have_text(
        "production + high-risk: two security approvers"
    )
    # payments-fixer's break-glass grant (demo: 30 minutes old, one hour long) is in view.
    context = row.get_by_test_id("agent-context")
    expect(context).to_contain_text("deploy:release")
    expect(context).to_contain_text("Under 1 hour:")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "approvals-queue-context.png"), full_page=True)

    row.get_by_role("textbox", name="comment").first.fill("Diff read, tests green.")
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"You approved request #{request_id}; waiting for a second security approver."
    )
    expect(page.locator(f'tr[data-request="{request_id}"]')).to_have_count(0)
    page.goto(f"{base}/requests/{request_id}/")
    expect(page.get_by_test_id("approval-state")).to_have_text(
        "You approved; waiting for a second security approver."
    )
    expect(page.get_by_test_id("approvals")).to_contain_text("sam approved")
    expect(page.get_by_test_id("agent-now")).to_contain_text("deploy:release")
    assert console_errors == []


def test_sam_revokes_a_grant_from_the_agent_page_through_the_dialog(
    live_server, page: Page, demo, console_errors
):
    base = live_server.url
    grant = Grant.objects.get(agent__slug="docs-helper", capability__key="github:write")
    login(page, base, "sam")
    page.goto(f"{base}/agents/docs-helper/")
    row = page.locator(f'tr[data-grant="{grant.pk}"]')
    dialog = page.locator(f"#confirm-access-grant-revoke-{grant.pk}")
    expect(dialog).to_be_hidden()

    # Keeping it closes the dialog and changes nothing.
    row.get_by_role("link", name="Revoke…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(
        f"Revoke grant #{grant.pk}: github:write for docs-helper?"
    )
    dialog.get_by_role("link", name="Keep the grant").click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(f"{base}/agents/docs-helper/")

    row.get_by_role("link", name="Revoke…").click()
    reason = dialog.get_by_label("Why is it revoked?")
    expect(reason).to_be_focused()
    dialog.get_by_role("button", name="Revoke grant").click()  # no reason: the browser asks
    expect(dialog).to_be_visible()
    reason.fill("The docs fix is merged; write access is no longer needed.")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "revoke-grant-dialog.png"))
    dialog.get_by_role("button", name="Revoke grant").click()

    expect(page).to_have_url(f"{base}/agents/docs-helper/")
    expect(page.get_by_role("status").first).to_contain_text(f"Grant #{grant.pk} revoked")
    expect(page.locator(f'tr[data-grant="{grant.pk}"]')).to_have_count(0)
    grant.refresh_from_db()
    assert grant.revoke_reason == "The docs fix is merged; write access is no longer needed."
    page.goto(f"{base}/grants/{grant.pk}/")
    expect(page.get_by_test_id("grant-state")).to_have_text("revoked")
    expect(page.get_by_test_id("revoked")).to_contain_text("by sam")
    assert console_errors == []
