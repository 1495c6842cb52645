import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPECTED_NAV = {
    "alice": (
        ["Dashboard", "Agents", "Policy", "My requests", "Grants", "Exceptions", "Compliance"],
        ["Approvals", "Audit trail", "Review"],
    ),
    "sam": (
        [
            "Dashboard",
            "Agents",
            "Policy",
            "My requests",
            "Grants",
            "Approvals",
            "Exceptions",
            "Review",
            "Compliance",
            "Audit trail",
        ],
        [],
    ),
    "audrey": (
        [
            "Dashboard",
            "Agents",
            "Policy",
            "Grants",
            "Exceptions",
            "Review",
            "Compliance",
            "Audit trail",
        ],
        ["Approvals", "My requests"],
    ),
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("whoami")).to_have_text(username)


@pytest.mark.parametrize("username", list(EXPECTED_NAV))
def test_each_demo_role_logs_in_and_sees_its_navigation(live_server, page: Page, demo, username):
    login(page, live_server.url, username)
    nav = page.get_by_role("navigation", name="Main")
    shown, hidden = EXPECTED_NAV[username]
    for label in shown:
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in hidden:
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()


def test_wrong_password_shows_an_error(live_server, page: Page, demo):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
