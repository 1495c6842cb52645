"""What the dashboard shows each role first: "needs my attention" (what waits, in order, then
what is clear), then the charts that role can follow to their lists."""

import pytest
import time_machine

from tests.portal.dashboard_world import NOW, attention_keys, read, seed


@pytest.fixture
def world(engineer, other_engineer, security):
    with time_machine.travel(NOW, tick=False):
        yield seed(engineer, other_engineer, security)


def dashboard(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response


def test_an_engineer_sees_what_waits_for_them_first(client, engineer, world):
    response = dashboard(client, engineer)
    assert attention_keys(response) == [
        "my-pending-requests",
        "grants-expiring",
        "exceptions-expiring",
        "stale-agents",
    ]
    items = read(response).items
    assert {key: item["value"] for key, item in items.items()} == {
        "my-pending-requests": "2",
        "grants-expiring": "2",
        "exceptions-expiring": "1",
        "stale-agents": "1",
    }
    page = response.content.decode()
    assert "My access requests waiting for approval" in page
    assert "Grants of my agents ending within 24 hours" in page
    assert "My exceptions ending within 7 days: renew them?" in page
    assert "My agents to re-attest (not attested within 90 days)" in page
    charts = [panel["key"] for panel in response.context["charts"]]
    assert charts == ["my-requests", "grants-by-tier", "exceptions-by-risk"]
    # Needs-my-attention comes before every chart.
    assert page.index('data-section="attention"') < page.index('data-panel="my-requests"')


def test_security_sees_the_approvals_and_reviews_waiting_for_them_first(client, security, world):
    response = dashboard(client, security)
    assert attention_keys(response) == [
        "approval-queue",
        "exceptions-awaiting-me",
        "bindings-awaiting-me",
        "break-glass",
        "drift",
        "exceptions-expiring",
        "orphaned-agents",
        "stale-agents",
    ]
    values = {key: item["value"] for key, item in read(response).items.items()}
    assert values == {
        "approval-queue": "3",
        "exceptions-awaiting-me": "1",
        "bindings-awaiting-me": "1",
        "break-glass": "1",
        "drift": "3",
        "exceptions-expiring": "2",
        "orphaned-agents": "1",
        "stale-agents": "1",
    }
    clear = [item["key"] for item in response.context["all_clear"]]
    assert clear == ["my-pending-requests"]  # security filed nothing: listed as clear
    charts = [panel["key"] for panel in response.context["charts"]]
    assert charts == [
        "decisions-per-day",
        "grants-by-tier",
        "exceptions-by-risk",
        "drift-per-week",
        "framework-status",
    ]


def test_an_auditor_watches_and_reads_the_trends(client, auditor, world):
    response = dashboard(client, auditor)
    assert attention_keys(response) == ["exceptions-expiring", "stale-agents"]
    charts = [panel["key"] for panel in response.context["charts"]]
    assert charts == [
        "decisions-per-day",
        "grants-by-tier",
        "exceptions-by-risk",
        "framework-status",
    ]
    page = response.content.decode()
    for not_theirs in ("approval-queue", "break-glass", "drift", "orphaned-agents", "my-requests"):
        assert f'data-panel="{not_theirs}"' not in page


def test_break_glass_says_one_number_in_words(client, security, world):
    """It used to read "Break-glass to review (uses in the last 30 days) 1 (1)"."""
    item = read(dashboard(client, security)).items["break-glass"]
    assert item == {"value": "1", "link": "/approvals/#break-glass"}
    page = dashboard(client, security).content.decode()
    assert "Break-glass uses to review" in page
    assert "(1)" not in page


def test_with_nothing_waiting_the_dashboard_says_so(client, auditor, db):
    response = dashboard(client, auditor)
    assert attention_keys(response) == []
    page = response.content.decode()
    assert "Nothing waits for you." in page
    assert 'data-panel="exceptions-expiring"' in page.split('class="clear-list', 1)[1]
    assert "No decision in this period." in page


def test_the_gateway_has_no_page_and_no_role_has_no_panel(client, gateway, no_role_user):
    client.force_login(gateway)
    assert client.get("/").status_code == 403
    response = dashboard(client, no_role_user)
    assert "Your account has no role yet" in response.content.decode()
    assert 'data-section="attention"' not in response.content.decode()
    assert response.context["panels"] == []


def test_every_chart_is_readable_without_colour(client, security, world):
    """Each series has its own pattern, a legend names it, and the numbers are in a table."""
    response = dashboard(client, security)
    page = response.content.decode()
    for panel in response.context["charts"]:
        chart = panel["chart"]
        patterns = [series.pattern for series in chart.series]
        assert len(set(patterns)) == len(patterns), chart.key
        for series in chart.series:
            assert f'id="chart-{chart.key}-{series.key}"' in page  # the pattern itself
            assert f'data-series="{series.key}"' in page
        assert f'data-chart-table="{chart.key}"' in page
        assert f'aria-labelledby="chart-{chart.key}-title chart-{chart.key}-desc"' in page
