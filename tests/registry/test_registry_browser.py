import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


def test_alice_registers_an_agent_and_finds_it_in_the_filtered_list(live_server, page: Page, demo):
    login(page, live_server.url, "alice")
    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_role("link", name="Register an agent").click()
    page.get_by_label("Slug").fill("release-notes-bot")
    page.get_by_label("Name").fill("Release notes bot")
    page.get_by_label("Team").select_option("payments")
    page.get_by_label("Tier").select_option("internal")
    page.get_by_label("Workload identity").fill("spiffe://acme.example/agents/release-notes-bot")
    page.get_by_label("Vendor").fill("claude-code")
    page.get_by_label("Repositories").fill("acme/payments-api\nacme/changelog")
    page.get_by_role("button", name="Register agent").click()

    expect(page.get_by_role("status")).to_contain_text("Agent release-notes-bot registered")
    expect(page.get_by_test_id("agent-status")).to_have_text("active")

    page.get_by_role("link", name="Agents", exact=True).click()
    page.get_by_label("Tier").select_option("internal")
    page.get_by_label("Search").fill("release")
    page.get_by_role("button", name="Filter").click()
    table = page.get_by_role("table", name="Agents")
    expect(table.get_by_role("link", name="release-notes-bot")).to_be_visible()
    expect(table.get_by_role("link", name="payments-fixer")).to_have_count(0)
    expect(page.get_by_text("1 agent", exact=True)).to_be_visible()


def test_security_publishes_a_new_policy_version(live_server, page: Page, demo):
    login(page, live_server.url, "sam")
    page.get_by_role("link", name="Policy", exact=True).click()
    page.get_by_role("button", name="Open a draft from the published version").click()
    cell = page.get_by_role("form", name="sandbox github:write")
    cell.get_by_label("effect").select_option("approval")
    cell.get_by_label("max hours").fill("2")
    cell.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("sandbox github:write saved")
    page.get_by_role("button", name="Publish v2").click()
    expect(page.get_by_role("status")).to_contain_text("Policy v2 published")
    matrix = page.get_by_role("table", name="Policy matrix v2")
    expect(matrix.locator('[data-tier="sandbox"][data-capability="github:write"]')).to_contain_text(
        "approval"
    )
