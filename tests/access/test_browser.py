import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


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


def approve_in_queue(page: Page, base: str, request_id: str) -> None:
    page.goto(f"{base}/approvals/")
    row = page.locator(f'tr[data-request="{request_id}"]')
    row.get_by_role("button", name="Approve").click()
    expect(page.get_by_role("status")).to_contain_text(f"#{request_id}")


def test_alice_requests_merge_sam_and_sara_approve_alice_sees_the_grant(
    live_server, page: Page, demo
):
    base = live_server.url
    login(page, base, "alice")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="My requests").click()
    page.get_by_role("link", name="Request access").click()
    page.get_by_label("Agent").select_option("payments-fixer")
    page.get_by_label("Capability").select_option("github:merge")
    expect(page.get_by_test_id("rule-hint")).to_contain_text(
        "production tier: github:merge is approval (needs security approval, at most 4 hours)"
    )
    page.get_by_label("Duration (hours)").fill("2")
    page.get_by_label("Justification").fill("Merge the reviewed hotfix PR #812.")
    page.get_by_role("button", name="Submit request").click()
    expect(page.get_by_role("status")).to_contain_text("needs 2 security approvals.")
    expect(page.get_by_test_id("request-status")).to_have_text("pending")
    request_id = page.url.rstrip("/").rsplit("/", 1)[-1]

    login(page, base, "sam")
    approve_in_queue(page, base, request_id)
    expect(page.locator(f'tr[data-request="{request_id}"]')).to_have_count(0)

    login(page, base, "sara")
    approve_in_queue(page, base, request_id)

    login(page, base, "alice")
    page.goto(f"{base}/requests/{request_id}/")
    expect(page.get_by_test_id("request-status")).to_have_text("approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("sam approved")
    expect(page.get_by_test_id("approvals")).to_contain_text("sara approved")
    expect(page.get_by_test_id("grant")).to_contain_text("active")
