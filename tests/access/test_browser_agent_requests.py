"""In a real browser: what an agent asked for itself through MCP (filed by the service the MCP
server calls, access.agent_requests.agent_request_file) waits for its owner. Alice finds it on
her dashboard and on its page ("filed by agent X through MCP for owner Y"), confirms it, and
only then does Sam see it in /approvals/ and approve it; another she declines with a reason,
which the agent reads back. Screenshots go to tests/artifacts/ (gitignored)."""

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from access.agent_requests import agent_request_file
from access.models import AccessRequest
from agent_mcp import tools
from agent_mcp.identity import Workload
from registry.models import Agent, Capability
from tests.portal.test_accessibility import axe_source, check  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WORKLOAD = "github-actions: repo:acme/payments-api:ref:refs/heads/main"


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


def agent_asks(key: str, justification: str, hours: int) -> AccessRequest:
    """What the MCP server does for payments-fixer acting as itself (its workload token)."""
    return agent_request_file(
        agent=Agent.objects.get(slug="payments-fixer"),
        workload=WORKLOAD,
        capability=Capability.objects.get(key=key),
        justification=justification,
        duration_hours=hours,
        scope="acme/payments-api",
        ticket="PAY-904",
    )


def test_alice_confirms_what_her_agent_asked_for_then_sam_approves_it(
    live_server,
    page: Page,
    demo,
    axe_source,  # noqa: F811 (the fixture imported above)
    console_errors,
):
    base = live_server.url
    filed = agent_asks("github:write", "Push the ledger fix branch for PR #904.", 4)
    row = f'tr[data-request="{filed.pk}"]'

    # Security does not see it before its owner stands behind it.
    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    expect(page.locator(row)).to_have_count(0)
    page.goto(f"{base}/requests/{filed.pk}/")
    expect(page.get_by_role("button", name="Confirm and send to security")).to_have_count(0)
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)

    login(page, base, "alice")
    item = page.locator('.attention-item[data-panel="requests-to-confirm"]')
    expect(item).to_contain_text("1 Access my agents asked for, awaiting my confirmation")
    item.get_by_role("link").click()
    expect(page).to_have_url(f"{base}/requests/?to_confirm=true")
    listed = page.locator(row)
    expect(listed.get_by_test_id("filed-by-agent")).to_have_text("filed by the agent")
    listed.get_by_role("link", name=f"#{filed.pk}").click()

    expect(page.get_by_test_id("request-status")).to_have_text("awaiting owner confirmation")
    expect(page.get_by_test_id("filed-by-agent")).to_have_text(
        f"Filed by agent payments-fixer through MCP for owner alice (workload identity {WORKLOAD})"
    )
    expect(page.get_by_test_id("approval-state")).to_have_text(
        "Awaiting confirmation by alice or a member of team payments: security sees it only "
        "once it is confirmed."
    )
    assert check(page, axe_source, "awaiting request page") == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "agent-request-awaiting-owner.png"), full_page=True)

    page.get_by_role("button", name="Confirm and send to security").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"Request #{filed.pk} confirmed: it now waits for 1 security approval."
    )
    expect(page.get_by_test_id("request-status")).to_have_text("pending")
    expect(page.get_by_test_id("filed-by-agent")).to_contain_text("; confirmed by alice, ")
    expect(page.locator('.attention-item[data-panel="requests-to-confirm"]')).to_have_count(0)

    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    queued = page.locator(row)
    expect(queued.get_by_test_id("filed-by-agent")).to_contain_text(
        "Filed by the agent through MCP, confirmed by alice"
    )
    expect(queued).to_contain_text("Push the ledger fix branch for PR #904.")
    queued.screenshot(path=str(ARTIFACTS / "agent-request-in-queue.png"))
    queued.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status").first).to_have_text(
        f"Request #{filed.pk} approved: grant issued."
    )
    expect(page.locator(row)).to_have_count(0)

    login(page, base, "alice")
    page.goto(f"{base}/requests/{filed.pk}/")
    expect(page.get_by_test_id("request-status")).to_have_text("approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("sam approved")
    expect(page.get_by_test_id("grant")).to_contain_text("active")
    assert console_errors == []


def test_alice_declines_with_a_reason_the_agent_reads_and_security_never_sees_it(
    live_server,
    page: Page,
    demo,
    axe_source,  # noqa: F811 (the fixture imported above)
    console_errors,
):
    base = live_server.url
    filed = agent_asks("github:merge", "Merge PR #904 once CI is green.", 2)

    login(page, base, "alice")
    page.goto(f"{base}/requests/{filed.pk}/")
    dialog = page.locator(f"#confirm-access-request-decline-{filed.pk}")
    expect(dialog).to_be_hidden()
    page.get_by_role("link", name="Decline…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text(
        f"Decline request #{filed.pk}: github:merge for payments-fixer?"
    )
    reason = dialog.get_by_label("Why should the agent not have it? (required)")
    expect(reason).to_be_focused()
    dialog.get_by_role("button", name="Decline request").click()  # no reason: the browser asks
    expect(dialog).to_be_visible()
    reason.fill("Merges to the payments API go through the release train, not the agent.")
    assert check(page, axe_source, "decline dialog") == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "agent-request-decline-dialog.png"))
    dialog.get_by_role("button", name="Decline request").click()

    expect(page.get_by_role("status").first).to_have_text(
        f"Request #{filed.pk} declined: agent payments-fixer does not get it."
    )
    expect(page.get_by_test_id("request-status")).to_have_text("cancelled")
    declined = "Declined by alice: Merges to the payments API go through the release train"
    expect(page.locator("dl.details")).to_contain_text(declined)
    expect(page.get_by_role("button", name="Confirm and send to security")).to_have_count(0)

    # The agent reads the reason when it asks where its request stands (request_status).
    agent = Agent.objects.get(slug="payments-fixer")
    itself = Workload(agent.pk, agent.slug, WORKLOAD, subject_token="")
    answer = tools.request_status(itself, agent, filed.pk)
    assert (answer.status, answer.decision_comment[: len(declined)]) == ("cancelled", declined)

    login(page, base, "sam")
    page.goto(f"{base}/approvals/")
    expect(page.locator(f'tr[data-request="{filed.pk}"]')).to_have_count(0)
    assert console_errors == []
