"""The requests list (issue #15, point 5: filters on view, sortable columns, pages that keep
them), cancelling through a confirmation (point 3), and refusals that link to where they point,
the next form prefilled (point 6)."""

import re

import pytest
from django.db.models import F

from access import services
from access.models import AccessRequest
from kernel.sorting import Sort, SortSpec, sort_from, sort_rows
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "prod": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox"),
    }


def file(client, **overrides):
    data = {
        "agent": "pay-bot",
        "capability": "github:merge",
        "duration_hours": "2",
        "justification": "hotfix",
        **overrides,
    }
    return client.post("/requests/new/", data, follow=True)


def numbers(page: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-request="(\d+)">', page)]


def test_the_list_offers_filters_to_pick_from_and_shows_them(client, engineer, world):
    client.force_login(engineer)
    file(client)
    file(client, agent="docs-bot", capability="github:write", duration_hours="1")  # jit
    page = client.get("/requests/?status=pending").content.decode()
    assert '<option value="pending" selected>Pending</option>' in page  # the filter, visible
    assert '<option value="docs-bot">docs-bot</option>' in page
    assert '<option value="github:merge">github:merge</option>' in page
    assert len(numbers(page)) == 1
    by_agent = client.get("/requests/?agent=docs-bot").content.decode()
    assert '<option value="docs-bot" selected>docs-bot</option>' in by_agent
    assert len(numbers(by_agent)) == 1
    by_capability = client.get("/requests/?capability=github:merge").content.decode()
    assert len(numbers(by_capability)) == 1
    none = client.get("/requests/?status=denied").content.decode()
    assert "No requests match these filters." in none
    assert "You have filed no requests yet." not in none


def test_sorting_by_any_column_both_ways_keeps_the_filters(client, engineer, world):
    client.force_login(engineer)
    for key, hours in (("github:merge", "3"), ("deploy:release", "1"), ("github:write", "2")):
        file(client, capability=key, duration_hours=hours)
    filed = list(AccessRequest.objects.order_by("pk").values_list("pk", flat=True))
    assert numbers(client.get("/requests/").content.decode()) == filed[::-1]  # newest first
    page = client.get("/requests/?status=pending&sort=duration").content.decode()
    assert numbers(page) == [filed[1], filed[2], filed[0]]
    assert '<th scope="col" aria-sort="ascending">' in page
    # Its header link turns the order around and keeps the status filter.
    assert 'href="?status=pending&amp;sort=-duration"' in page
    page = client.get("/requests/?status=pending&sort=-duration").content.decode()
    assert numbers(page) == [filed[0], filed[2], filed[1]]
    # Filtering again keeps the order.
    assert '<input type="hidden" name="sort" value="-duration">' in page
    by_capability = numbers(client.get("/requests/?sort=capability").content.decode())
    assert by_capability == [filed[1], filed[0], filed[2]]


def test_an_unknown_sort_is_said_not_obeyed(client, engineer, world):
    client.force_login(engineer)
    file(client)
    response = client.get("/requests/?sort=justification")
    assert response.status_code == 200
    page = response.content.decode()
    assert "This list cannot be sorted by “justification”" in page
    assert "agent, capability, duration, filed, number, status" in page
    assert len(numbers(page)) == 1


def test_pages_keep_the_filters_and_the_order(client, engineer, world):
    client.force_login(engineer)
    agent = world["sandbox"]
    for i in range(27):
        AccessRequest.objects.create(
            agent=agent,
            capability=capability(f"tool{i}:act"),
            justification="j",
            duration_hours=i + 1,
            requested_by=engineer,
            effect="approval",
            policy_version=1,
        )
    page = client.get("/requests/?agent=docs-bot&sort=duration").content.decode()
    assert "27 requests" in page
    assert 'href="?agent=docs-bot&amp;sort=duration&amp;page=2"' in page
    second = client.get("/requests/?agent=docs-bot&sort=duration&page=2").content.decode()
    assert len(numbers(second)) == 2
    assert "26 h" in second
    assert "27 h" in second


def test_cancelling_asks_first_and_works_without_javascript(
    client, engineer, other_engineer, security, world
):
    client.force_login(engineer)
    file(client)
    request = AccessRequest.objects.get()
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert f'href="/requests/{request.pk}/cancel/" data-confirm=' in page
    assert f'<dialog id="confirm-access-request-cancel-{request.pk}"' in page
    confirm = client.get(f"/requests/{request.pk}/cancel/").content.decode()
    assert f"Cancel request #{request.pk}: github:merge for pay-bot?" in confirm
    assert "Keep the request" in confirm
    done = client.post(f"/requests/{request.pk}/cancel/", follow=True)
    assert f"Request #{request.pk} cancelled." in done.content.decode()
    assert AccessRequest.objects.get().status == "cancelled"
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert 'data-testid="approval-state">Cancelled by eve, who filed it, 20' in page
    # Nothing left to cancel, and nobody else's to cancel: said before anyone confirms.
    again = client.get(f"/requests/{request.pk}/cancel/")
    assert again.status_code == 400
    assert f"Request #{request.pk} is already cancelled." in again.content.decode()
    file(client, capability="deploy:release", duration_hours="1")
    other = AccessRequest.objects.get(status="pending")
    client.force_login(security)
    assert client.get(f"/requests/{other.pk}/cancel/").status_code == 403
    client.force_login(other_engineer)
    assert client.get(f"/requests/{other.pk}/cancel/").status_code == 404
    assert AccessRequest.objects.get(pk=other.pk).status == "pending"


def test_a_denying_policy_links_to_the_exception_form_prefilled(client, engineer, world):
    client.force_login(engineer)
    refused = file(client, capability="vault:read_secret").content.decode()
    link = '<a href="/exceptions/new/?agent=pay-bot&amp;capability=vault%3Aread_secret">'
    assert (
        "Policy v1 denies vault:read_secret on production agents. To ask for a deviation, "
        f"{link}request a policy exception</a> for vault:read_secret on pay-bot." in refused
    )
    assert refused.count("policy exception") == 1  # said once, as the link
    assert "/exceptions/new/." not in refused  # a link, not a path in the text
    form = client.get("/exceptions/new/?agent=pay-bot&capability=vault%3Aread_secret")
    page = form.content.decode()
    assert '<option value="pay-bot" selected>' in page
    assert '<option value="vault:read_secret" selected>' in page
    # The lowest risk the deviation may claim: critical for a high-risk capability in production.
    assert '<option value="critical" selected>' in page


def test_a_duplicate_links_to_the_pending_request(client, engineer, world):
    client.force_login(engineer)
    file(client)
    first = AccessRequest.objects.get()
    again = file(client).content.decode()
    assert (
        f"Request #{first.pk} for the same access is already pending. "
        f'<a href="/requests/{first.pk}/">Open request #{first.pk}</a>.'
    ) in again


def test_a_denied_request_offers_an_exception_to_who_may_ask(
    client, engineer, auditor, security, world
):
    client.force_login(engineer)
    file(client)
    request = AccessRequest.objects.get()
    services.access_request_deny(actor=security, access_request=request, comment="Not now.")
    page = client.get(f"/requests/{request.pk}/").content.decode()
    assert 'href="/exceptions/new/?agent=pay-bot&amp;capability=github%3Amerge"' in page
    client.force_login(auditor)  # reads it, asks for nothing
    assert "/exceptions/new/" not in client.get(f"/requests/{request.pk}/").content.decode()


def test_sort_spec_is_an_allow_list():
    spec = SortSpec({"agent": ("agent__slug",), "filed": ("created_at",)}, default="-filed")
    assert sort_from(spec, {}) == Sort("filed", descending=True)
    assert sort_from(spec, {"sort": "agent"}) == Sort("agent", descending=False)
    refused = sort_from(spec, {"sort": "-password"})
    assert refused == Sort("filed", descending=True)
    assert "cannot be sorted by “-password”: pick one of agent, filed" in refused.error
    assert Sort("agent", descending=False).toggled("agent") == "-agent"
    assert Sort("agent", descending=True).toggled("agent") == "agent"
    assert Sort("agent", descending=True).toggled("filed") == "filed"
    with pytest.raises(ValueError, match="not a sortable column"):
        SortSpec({"agent": ("agent__slug",)}, default="filed")


def test_sort_rows_orders_by_expressions_and_breaks_ties_by_pk(engineer, world):
    for hours in (2, 2, 1):
        AccessRequest.objects.create(
            agent=world["sandbox"],
            capability=capability(f"c{hours}{AccessRequest.objects.count()}:act"),
            justification="j",
            duration_hours=hours,
            requested_by=engineer,
            effect="approval",
            policy_version=1,
        )
    spec = SortSpec({"hours": (F("duration_hours") * 2,)}, default="hours")
    rows, sort = sort_rows(AccessRequest.objects.all(), spec, {"sort": "-hours"})
    pks = list(AccessRequest.objects.order_by("pk").values_list("pk", flat=True))
    assert list(rows.values_list("pk", flat=True)) == [pks[1], pks[0], pks[2]]
    assert sort.param == "-hours"


def test_the_request_form_says_everything_wrong_at_once_in_plain_words(client, engineer, world):
    client.force_login(engineer)
    response = file(client, capability="github:fly", duration_hours="0", justification="")
    errors = {name: " ".join(e) for name, e in response.context["form"].errors.items()}
    assert errors == {
        "capability": "Pick one of the capabilities listed.",
        "duration_hours": "Ask for at least 1 hour.",
        "justification": "Say why the agent needs this access.",
    }
    page = response.content.decode()
    for message in errors.values():
        assert message in page
    assert not AccessRequest.objects.exists()


def test_the_api_filters_requests_by_capability_too(api, engineer, world):
    client = api.as_user(engineer)
    file_for = {"agent": "pay-bot", "duration_hours": 1, "justification": "j"}
    for key in ("github:merge", "deploy:release"):
        assert (
            client.post("/api/v1/access-requests/", {**file_for, "capability": key}).status_code
            == 201
        )
    body = client.get("/api/v1/access-requests/?capability=deploy:release").json()
    rows = body["results"] if isinstance(body, dict) else body
    assert [row["capability"] for row in rows] == ["deploy:release"]


def test_each_list_offers_only_the_filters_it_applies(client, engineer, world):
    client.force_login(engineer)
    requests = client.get("/requests/").content.decode()
    assert 'name="expiring_within_hours"' not in requests
    assert 'name="tier"' not in requests
    grants = client.get("/grants/").content.decode()
    assert 'name="expiring_within_hours"' in grants
    assert 'name="tier"' in grants
