"""The charts carry the right numbers (their tables, for a known world), each number links to
the list it counts, and the compliance figures are those of each framework's report."""

import pytest
import time_machine

from compliance.period import period_parse
from compliance.reports.build import report_build
from controls.models import Framework
from tests.portal.dashboard_world import NOW, read, seed
from tests.portal.test_dashboard_links import assert_list_matches


@pytest.fixture
def world(engineer, other_engineer, security):
    with time_machine.travel(NOW, tick=False):
        yield seed(engineer, other_engineer, security)


def tables(client, user) -> dict:
    client.force_login(user)
    return read(client.get("/")).tables


def values(table: dict, series: str) -> dict[str, int]:
    return {row: cells[series][0] for row, cells in table.items() if cells[series][0]}


def test_decisions_per_day_counts_allow_and_deny_of_each_utc_day(client, security, world):
    table = tables(client, security)["decisions-per-day"]
    assert len(table) == 30
    assert (next(iter(table)), list(table)[-1]) == ("2026-02-10", "2026-03-11")
    assert values(table, "allow") == {"2026-03-09": 2, "2026-03-11": 3}
    assert values(table, "deny") == {"2026-02-10": 1, "2026-03-11": 1}
    assert values(table, "total") == {"2026-02-10": 1, "2026-03-09": 2, "2026-03-11": 4}
    count, link = table["2026-03-11"]["allow"]
    assert link == (
        "/decisions/?decision=allow&since=2026-03-11T00%3A00%3A00Z&until=2026-03-12T00%3A00%3A00Z"
    )
    assert_list_matches(client, link, count)
    assert_list_matches(client, table["2026-02-10"]["deny"][1], 1)
    assert_list_matches(client, table["2026-03-11"]["total"][1], 4)


def test_the_decision_chart_legend_totals_the_thirty_days(client, auditor, world):
    client.force_login(auditor)
    page = client.get("/").content.decode()
    chart = page.split('data-panel="decisions-per-day"', 1)[1].split("</section>", 1)[0]
    assert "7 decisions from 2026-02-10 to 2026-03-11: 5 allowed, 2 denied." in chart
    allow = chart.split('<li data-series="allow">', 1)[1].split("</li>", 1)[0]
    link = allow.split('href="', 1)[1].split('"', 1)[0]
    assert ">5</a>" in allow
    assert_list_matches(client, link.replace("&amp;", "&"), 5)


def test_grants_active_by_tier_for_whoever_looks(client, engineer, security, world):
    assert values(tables(client, security)["grants-by-tier"], "active") == {
        "production": 2,
        "internal": 1,
        "sandbox": 1,
    }
    mine = tables(client, engineer)["grants-by-tier"]
    assert values(mine, "active") == {"production": 2, "internal": 1}
    assert_list_matches(client, mine["production"]["active"][1], 2)
    page = client.get("/").content.decode()
    chart = page.split('data-panel="grants-by-tier"', 1)[1].split("</section>", 1)[0]
    assert "3 grants active now: 2 production, 1 internal, 0 sandbox" in chart


def test_exceptions_by_risk_and_expiry(client, engineer, security, world):
    table = tables(client, security)["exceptions-by-risk"]
    assert list(table) == ["critical", "high", "medium", "low"]
    assert values(table, "soon") == {"critical": 1, "high": 1}
    assert values(table, "later") == {"low": 1}
    assert values(table, "total") == {"critical": 1, "high": 1, "low": 1}
    assert_list_matches(client, table["critical"]["soon"][1], 1)
    assert_list_matches(client, table["low"]["total"][1], 1)
    mine = tables(client, engineer)["exceptions-by-risk"]  # her agents' (oscar's is not)
    assert values(mine, "total") == {"high": 1, "low": 1}
    assert_list_matches(client, mine["low"]["later"][1], 1)


def test_drift_flags_per_week_by_review(client, security, world):
    table = tables(client, security)["drift-per-week"]
    assert (len(table), list(table)[-1]) == (12, "2026-03-09")
    assert values(table, "pending") == {"2026-03-09": 2}  # the flag of 13 weeks ago is out
    assert values(table, "incident") == {"2026-02-16": 1}
    assert values(table, "expected") == {"2026-02-16": 1}
    assert_list_matches(client, table["2026-03-09"]["pending"][1], 2)
    assert_list_matches(client, table["2026-02-16"]["total"][1], 2)
    assert_list_matches(client, table["2026-02-16"]["expected"][1], 1)


def test_control_status_per_framework_is_each_reports_item_count(client, auditor, world):
    table = tables(client, auditor)["framework-status"]
    period = period_parse(None, None)
    assert list(table) == list(Framework.objects.order_by("name").values_list("key", flat=True))
    for framework in Framework.objects.all():
        counts = report_build(framework, period).item_counts()
        row = table[framework.key]
        for status, (value, _) in row.items():
            if status != "total":
                assert value == counts[status], (framework.key, status)
        total, link = row["total"]
        assert total == sum(v for k, v in counts.items() if k != "not_applicable")
        response = client.get(link)  # the report of the same period
        assert response.context["report"].item_counts() == counts
        assert response.context["report"].period == period


def test_control_status_is_kept_for_ten_minutes_and_says_when_computed(
    client, auditor, world, django_assert_max_num_queries
):
    client.force_login(auditor)
    first = client.get("/").content.decode()
    assert "computed 2026-03-11 12:00 UTC (at most 10 minutes old)" in first
    with django_assert_max_num_queries(30):  # the cached figures: no collector runs again
        client.get("/")
    with time_machine.travel(NOW.replace(minute=11), tick=False):
        client.force_login(auditor)
        later = client.get("/").content.decode()
    assert "computed 2026-03-11 12:11 UTC" in later


def test_dates_and_weeks_follow_utc_days_whatever_the_hour(client, security, world):
    """At 00:30 UTC the new day has its own column (no decision yet)."""
    with time_machine.travel(NOW.replace(day=12, hour=0, minute=30), tick=False):
        client.force_login(security)
        table = read(client.get("/")).tables["decisions-per-day"]
    assert list(table)[-1] == "2026-03-12"
    assert table["2026-03-12"]["total"][0] == 0
    assert "2026-02-10" not in table
