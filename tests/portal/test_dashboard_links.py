"""Every count on the dashboard links to the list of exactly what it counts: followed with the
test client, the list shows the filter the link set and the same number."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine

from tests.portal.dashboard_world import NOW, read, seed


@pytest.fixture
def world(engineer, other_engineer, security):
    with time_machine.travel(NOW, tick=False):
        yield seed(engineer, other_engineer, security)


def counted(client, link: str) -> tuple[int, dict[str, str], str]:
    """Follow a dashboard link: the number the list shows, its filter controls, its page."""
    url = urlsplit(link)
    response = client.get(f"{url.path}?{url.query}" if url.query else url.path)
    assert response.status_code == 200, link
    page = response.content.decode()
    if url.path == "/approvals/":
        section = page.split(f'data-section="{url.fragment}"', 1)[1].split("</section>", 1)[0]
        return int(re.search(r'class="badge">(\d+)<', section)[1]), {}, page
    if url.path == "/review/" and not url.query:
        return int(re.search(r'data-testid="pending-count">(\d+)<', page)[1]), {}, page
    if url.path == "/review/":
        pending = int(re.search(r'data-testid="pending-count">(\d+)<', page)[1])
        reviewed = int(re.search(r'data-testid="reviewed-count">(\d+)<', page)[1])
        return pending + reviewed, read(response).controls, page
    if "report" in response.context:
        return -1, read(response).controls, page
    total = response.context["page"].paginator.count
    return total, read(response).controls, page


def assert_list_matches(client, link: str, value: int) -> None:
    total, controls, page = counted(client, link)
    params = dict(parse_qsl(urlsplit(link).query))
    assert total == value, (link, total, value)
    for name, expected in params.items():
        assert controls.get(name) == expected, (link, name, controls)
    if params:  # a narrowed list says how many match, in words
        nouns = "request|grant|exception|agent|decision|flagged action"
        assert re.search(rf">{value} ({nouns})s?\b", page), link


def items_of(client, user) -> dict[str, dict]:
    client.force_login(user)
    return read(client.get("/")).items


ROLE_ITEMS = {
    "engineer": ["my-pending-requests", "grants-expiring", "exceptions-expiring", "stale-agents"],
    "security": [
        "approval-queue",
        "exceptions-awaiting-me",
        "bindings-awaiting-me",
        "break-glass",
        "drift",
        "exceptions-expiring",
        "orphaned-agents",
        "stale-agents",
    ],
    "auditor": ["exceptions-expiring", "stale-agents"],
}


@pytest.mark.parametrize(
    ("role", "key"), [(role, key) for role, keys in ROLE_ITEMS.items() for key in keys]
)
def test_each_attention_item_opens_the_list_it_counts(client, role_users, world, role, key):
    item = items_of(client, role_users[role])[key]
    assert_list_matches(client, item["link"], int(item["value"]))


def test_my_requests_shows_them_all_by_status_not_an_empty_hidden_filter(client, engineer, world):
    """The old "My requests" opened ?status=pending, said "No requests yet." and hid the
    filter. Now: waiting ones in "needs my attention", every status in the chart."""
    client.force_login(engineer)
    response = client.get("/")
    table = read(response).tables["my-requests"]
    assert {row: cells["requests"][0] for row, cells in table.items()} == {
        "pending": 2,
        "approved": 3,
        "denied": 1,
        "cancelled": 0,
        "expired": 0,
    }
    for cells in table.values():
        value, link = cells["requests"]
        assert_list_matches(client, link, value)
    summary = "6 requests filed by me: 2 pending, 3 approved, 1 denied, 0 cancelled, 0 expired"
    assert summary in response.content.decode()
    legend = re.search(
        r'data-series="requests">.*?href="([^"]+)">(\d+)<', response.content.decode()
    )
    assert (legend[1], legend[2]) == ("/requests/", "6")
    listed, _, page = counted(client, legend[1])
    assert listed == 6
    assert "No requests yet" not in page


def test_zero_items_are_listed_as_clear_and_link_too(client, security, world):
    client.force_login(security)
    response = client.get("/")
    clear = response.content.decode().split('class="clear-list', 1)[1].split("</p>", 1)[0]
    link = re.search(r'href="([^"]+)" data-panel="my-pending-requests"', clear)[1]
    assert link == "/requests/?status=pending"
    assert_list_matches(client, link, 0)


@pytest.mark.parametrize(
    ("url", "field", "role"),
    [
        ("/decisions/?since=yesterday", "since", "auditor"),
        ("/decisions/?decision=maybe", "decision", "security"),
        ("/review/?until=soon", "until", "security"),
        ("/agents/?stale=maybe", "stale", "engineer"),
    ],
)
def test_a_bad_filter_is_said_on_the_list_never_a_500(client, role_users, world, url, field, role):
    client.force_login(role_users[role])
    response = client.get(url)
    assert response.status_code == 200
    assert re.search(r'role="alert" class="error">[^<]*\w', response.content.decode()), field


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("/decisions/", {"security", "auditor"}), ("/review/", {"security", "auditor"})],
)
def test_the_linked_lists_are_for_the_roles_that_see_their_counts(
    client, role_users, world, url, allowed
):
    for role in ("engineer", "security", "auditor"):
        client.force_login(role_users[role])
        assert client.get(url).status_code == (200 if role in allowed else 403), role
