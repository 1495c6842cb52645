"""What an agent filed itself, as its owner, the agent's team and everyone else see it: the
request page ("filed by agent X through MCP for owner Y"), its Confirm and Decline steps (HTML
and API, for every role), the requests list and the dashboard; and security's queue, which
shows it only once it is confirmed."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import agent_requests
from access.models import AccessRequest
from tests.access.test_agent_requests import WORKLOAD
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, capability, demo_policy

pytestmark = pytest.mark.django_db

ROLES = [
    "owner",
    "teammate",
    "other_engineer",
    "security",
    "auditor",
    "gateway",
    "norole",
    "anonymous",
]
# May confirm or decline: the owner and the agent's team. Cannot see the request at all: an
# engineer of another team (404). Everyone else is refused (403; anonymous: sign in first).
CONFIRMERS = {"owner", "teammate"}


@pytest.fixture
def users(engineer, other_engineer, security, auditor, gateway, no_role_user):
    return {
        "owner": engineer,
        "teammate": make_user("tina", "engineer"),
        "other_engineer": other_engineer,
        "security": security,
        "auditor": auditor,
        "gateway": gateway,
        "norole": no_role_user,
        "anonymous": None,
    }


@pytest.fixture
def filed(users, security):
    team = TeamFactory(slug="payments", members=[users["owner"], users["teammate"]])
    demo_policy(security)
    agent = AgentFactory(slug="prod-bot", owner=users["owner"], team=team, tier="production")
    AgentFactory(slug="other-bot", owner=users["other_engineer"], team=TeamFactory(slug="web"))
    return agent_requests.agent_request_file(
        agent=agent,
        workload=WORKLOAD,
        capability=capability("github:merge"),
        duration_hours=2,
        justification="merge the release branch",
    )


def status_of(request) -> tuple:
    fresh = AccessRequest.objects.get(pk=request.pk)
    return fresh.status, fresh.confirmed_by_id, fresh.decision_comment


def expected(role: str, *, api: bool, ok: int) -> int:
    if role in CONFIRMERS:
        return ok
    if role == "other_engineer":
        return 404  # another team's request: not found, not leaked
    if role == "anonymous":
        return 401 if api else 302
    return 403


STEPS = [("confirm", {}), ("decline", {"reason": "not this sprint"})]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("step", "body"), STEPS, ids=[s[0] for s in STEPS])
def test_html_confirm_and_decline_per_role(client, users, filed, role, step, body):
    if users[role] is not None:
        client.force_login(users[role])
    before = status_of(filed)
    response = client.post(f"/requests/{filed.pk}/{step}/", body)
    assert response.status_code == expected(role, api=False, ok=302), response.content[:300]
    if role in CONFIRMERS:
        assert response["Location"] == f"/requests/{filed.pk}/"
        assert status_of(filed)[0] == ("pending" if step == "confirm" else "cancelled")
    else:
        assert status_of(filed) == before
        if role == "security":
            page = response.content.decode()
            assert "Only the owner of &#x27;prod-bot&#x27; or a member of team" in page


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("step", "body"), STEPS, ids=[s[0] for s in STEPS])
def test_api_confirm_and_decline_per_role(api, users, filed, role, step, body):
    before = status_of(filed)
    response = api.as_user(users[role]).post(
        f"/api/v1/access-requests/{filed.pk}/{step}/", body, format="json"
    )
    assert response.status_code == expected(role, api=True, ok=200), response.content
    if role in CONFIRMERS:
        answer = response.json()
        assert answer["status"] == ("pending" if step == "confirm" else "cancelled")
        assert answer["filed_by_agent"] is True
        assert answer["filed_by_workload"] == WORKLOAD
        if step == "confirm":
            assert answer["confirmed_by"] == users[role].username
    else:
        assert response.json()["detail"]
        assert status_of(filed) == before


def test_api_decline_needs_a_reason_and_changes_nothing_without(api, users, filed):
    response = api.as_user(users["owner"]).post(
        f"/api/v1/access-requests/{filed.pk}/decline/", {}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert status_of(filed)[0] == "awaiting_owner"


def test_the_html_decline_asks_first_and_wants_a_reason(client, users, filed):
    client.force_login(users["teammate"])
    asked = client.get(f"/requests/{filed.pk}/decline/").content.decode()
    assert f"Decline request #{filed.pk}: github:merge for prod-bot?" in asked
    assert "security never sees it" in asked
    refused = client.post(f"/requests/{filed.pk}/decline/", {"reason": " "})
    assert refused.status_code == 400
    assert "Say why the agent should not have it" in refused.content.decode()
    assert status_of(filed)[0] == "awaiting_owner"


def test_the_page_says_who_filed_it_and_offers_the_steps_to_the_owner_only(client, users, filed):
    client.force_login(users["owner"])
    page = client.get(f"/requests/{filed.pk}/").content.decode()
    assert "Filed by agent prod-bot through MCP for owner eve" in page
    assert WORKLOAD in page
    assert "Awaiting confirmation by eve or a member of team payments" in page
    assert f'action="/requests/{filed.pk}/confirm/"' in page
    assert f'href="/requests/{filed.pk}/decline/"' in page
    client.force_login(users["security"])
    page = client.get(f"/requests/{filed.pk}/").content.decode()
    assert "Filed by agent prod-bot through MCP for owner eve" in page
    assert "/confirm/" not in page
    assert "/decline/" not in page
    assert f'action="/requests/{filed.pk}/approve/"' not in page


def test_security_sees_it_in_the_queue_only_once_confirmed(client, users, filed):
    client.force_login(users["security"])
    assert f'data-request="{filed.pk}"' not in client.get("/approvals/").content.decode()
    client.force_login(users["teammate"])
    confirmed = client.post(f"/requests/{filed.pk}/confirm/", follow=True).content.decode()
    assert f"Request #{filed.pk} confirmed: it now waits for 2 security approvals." in confirmed
    assert "confirmed by tina" in confirmed
    client.force_login(users["security"])
    queue = client.get("/approvals/").content.decode()
    assert f'data-request="{filed.pk}"' in queue
    # Where security approves, it reads that the agent filed it and who confirmed it.
    assert "Filed by the agent through MCP, confirmed by tina" in queue


def test_the_owner_and_the_team_find_it_on_the_dashboard_and_the_list(client, users, filed):
    for who in ("owner", "teammate"):
        client.force_login(users[who])
        dashboard = client.get("/")
        (item,) = [i for i in dashboard.context["attention"] if i["key"] == "requests-to-confirm"]
        assert "Access my agents asked for, awaiting my confirmation" in dashboard.content.decode()
        assert (item["value"], item["link"]) == (1, "/requests/?to_confirm=true")
        listed = client.get(item["link"])
        assert [r.pk for r in listed.context["page"]] == [filed.pk]
        assert 'data-testid="filed-by-agent"' in listed.content.decode()
    # Nobody else is asked to confirm it.
    client.force_login(users["security"])
    dashboard = client.get("/").context
    shown = dashboard["attention"] + dashboard["all_clear"]
    assert "requests-to-confirm" not in {i["key"] for i in shown}
    assert not list(client.get("/requests/?to_confirm=true").context["page"])


def test_the_dashboard_counts_them_in_a_query_it_runs_anyway(client, users, filed):
    client.force_login(users["teammate"])
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for n in range(3):
        agent_requests.agent_request_file(
            agent=filed.agent,
            workload=WORKLOAD,
            capability=filed.capability,
            duration_hours=1,
            justification="another repository",
            scope=f"acme/repo-{n}",
        )
    with CaptureQueriesContext(connection) as many:
        response = client.get("/")
    assert len(many) == len(few)
    items = {i["key"]: i["value"] for i in response.context["attention"]}
    assert items["requests-to-confirm"] == 4
