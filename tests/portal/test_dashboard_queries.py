"""The dashboard and the lists it links to run a fixed number of queries, whatever the amount
of data: every panel aggregates in the database."""

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.portal.dashboard_world import NOW, add_records, seed


@pytest.fixture
def world(engineer, other_engineer, security):
    with time_machine.travel(NOW, tick=False):
        yield seed(engineer, other_engineer, security)


def queries(client, url: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


# With the compliance figures cached. Everyone: session, user, roles, the inventory's counts,
# grants (by tier, ending), exceptions (by risk, ending). Engineer: their requests by status.
# Security: their requests, requests, exceptions and bindings awaiting them, break-glass to
# review, drift to review, drift per week, decisions per day, the outbox (2), the signing key,
# refused exchanges. Auditor: decisions per day. Security and auditors: which days the charts
# read from daily rollups (one query for both charts).
DASHBOARD_QUERIES = {"engineer": 7, "security": 19, "auditor": 8}


@pytest.mark.parametrize("role", ["engineer", "security", "auditor"])
def test_the_dashboard_runs_the_same_queries_with_ten_times_the_data(
    client, role_users, world, role
):
    client.force_login(role_users[role])
    client.get("/")
    cache.clear()  # the compliance figures are computed again: the expensive path counts too
    few = queries(client, "/")
    cached = queries(client, "/")
    for copy in range(1, 10):
        add_records(world, copy)
    cache.clear()
    many = queries(client, "/")
    assert len(many) == len(few), "\n".join(many)
    assert len(cached) == DASHBOARD_QUERIES[role], "\n".join(cached)
    assert len(queries(client, "/")) == len(cached)


def test_the_compliance_figures_cost_a_cache_read_once_computed(client, auditor, world):
    client.force_login(auditor)
    cache.clear()
    computed = queries(client, "/")
    cached = queries(client, "/")
    # One collection of every control, then two queries per framework; then none of them.
    assert len(computed) - len(cached) >= 20
    assert not any("controls_mapping" in sql for sql in cached)


@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("/decisions/?decision=allow&since=2026-02-01T00:00:00Z", "auditor"),
        ("/review/?since=2026-02-01T00:00:00Z&review_status=pending", "security"),
        ("/review/", "security"),
    ],
)
def test_the_linked_lists_run_the_same_queries_with_more_rows(client, role_users, world, url, role):
    client.force_login(role_users[role])
    client.get(url)
    few = queries(client, url)
    for copy in range(1, 5):
        add_records(world, copy)
    assert len(queries(client, url)) == len(few)
