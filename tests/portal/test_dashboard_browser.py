"""The dashboard in Chromium for each person of the demo, after a month of use: what needs
them first, the charts, a table opened, a count followed to its list; a full-page screenshot
per role is kept in tests/artifacts/dashboard-<role>.png (gitignored)."""

import random
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from decisions.models import Activity, Decision
from registry.models import Agent, Capability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PEOPLE = {"engineer": "alice", "security": "sam", "auditor": "audrey"}
CHARTS = {
    "engineer": ["My access requests by status", "Active grants by tier"],
    "security": ["Decisions per day, last 30 days", "Drift flags per week, last 12 weeks"],
    "auditor": ["Decisions per day, last 30 days", "Control status per framework"],
}


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo")
    month_of_use()


def month_of_use() -> None:
    """What thirty days of gateway decisions and twelve weeks of drift review leave behind
    (the demo's own log is all from today)."""
    rng = random.Random(15)  # the same month on every run
    now = timezone.now()
    gateway, reviewer = User.objects.get(username="gateway"), User.objects.get(username="sam")
    agents = list(Agent.objects.filter(status="active").values_list("slug", flat=True))
    keys = list(Capability.objects.values_list("key", flat=True))
    decisions = [
        Decision(
            request_id=uuid.uuid4(),
            agent_slug=rng.choice(agents),
            capability_key=rng.choice(keys),
            decision="allow" if rng.random() < 0.8 else "deny",
            reason="month of use",
            caller=gateway,
            decided_at=now - timedelta(days=day, hours=rng.uniform(0, 23)),
        )
        for day in range(1, 30)
        for _ in range(rng.randint(12, 40) if day % 7 not in (2, 3) else rng.randint(0, 6))
    ]
    Decision.objects.bulk_create(decisions)
    flags = []
    for week in range(1, 12):
        for _ in range(rng.randint(0, 4)):
            verdict = "pending" if week < 2 else rng.choice(["expected", "expected", "incident"])
            flags.append(
                Activity(
                    agent_slug=rng.choice(agents),
                    capability_key=rng.choice(keys),
                    outcome="success",
                    occurred_at=now - timedelta(weeks=week, days=rng.uniform(0, 6)),
                    reported_by=gateway,
                    flagged=True,
                    flag_reason="no allow decision, grant, exception or standing rule",
                    review_status=verdict,
                    reviewed_by=None if verdict == "pending" else reviewer,
                )
            )
    Activity.objects.bulk_create(flags)


def login(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("portal-demo")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()


@pytest.mark.parametrize("role", list(PEOPLE))
def test_each_person_sees_what_needs_them_then_the_charts(live_server, page: Page, demo, role):
    page.set_viewport_size({"width": 1280, "height": 900})
    login(page, live_server.url, PEOPLE[role])
    attention = page.locator('[data-section="attention"]')
    expect(attention.get_by_role("heading", name="Needs my attention")).to_be_visible()
    expect(attention.locator(".attention-item").first).to_be_visible()
    for title in CHARTS[role]:
        chart = page.get_by_role("heading", name=title)
        expect(chart).to_be_visible()
    exceptions = page.locator('.chart-card[data-panel="exceptions-by-risk"]')
    exceptions.get_by_text("The numbers as a table").click()
    expect(exceptions.get_by_role("table")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{role}.png"), full_page=True)
    # At 390 px the page is no wider than the screen: a wide chart scrolls inside its card.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_count_opens_its_list_showing_the_filter(live_server, page: Page, demo):
    login(page, live_server.url, "alice")
    item = page.locator('.attention-item[data-panel="my-pending-requests"]')
    waiting = item.locator(".figure").inner_text()
    item.get_by_role("link").click()
    expect(page).to_have_url(f"{live_server.url}/requests/?status=pending")
    expect(page.get_by_label("Status")).to_have_value("pending")
    expect(page.get_by_test_id("count")).to_contain_text(f"{waiting} request")
