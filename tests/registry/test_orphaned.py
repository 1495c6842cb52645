"""Orphaned agents: their owner left (account deactivated) and they are not retired. They show
on the agents list (badge, filter), the agent page and security's dashboard, and security gives
each a new owner (HTML form and POST /api/v1/agents/{slug}/reassign/), in the audit trail."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType

from kernel.errors import ApplicationError, Forbidden
from registry.models import Agent
from registry.rules import is_orphaned, orphaned_q
from registry.selectors.agents import agent_list, owner_candidates
from registry.services.agents import agent_reassign
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

BADGE = "orphaned: owner lena left"
REFUSAL = "Only security reassigns an agent's owner."


@pytest.fixture
def world(engineer, other_engineer):
    """lena (engineer, team payments) left; she owned lost-bot, paused-bot and old-bot."""
    lena = make_user("lena", "engineer")
    team = TeamFactory(slug="payments", members=[engineer, lena])
    agents = {
        "lost": AgentFactory(slug="lost-bot", owner=lena, team=team),
        "paused": AgentFactory(slug="paused-bot", owner=lena, team=team, status="suspended"),
        "old": AgentFactory(slug="old-bot", owner=lena, team=team, status="retired"),
        "kept": AgentFactory(slug="pay-bot", owner=engineer, team=team),
    }
    lena.is_active = False
    lena.save()
    return {"lena": lena, "team": team, **agents}


def reassign(api, user, slug="lost-bot", **body):
    return api.as_user(user).post(f"/api/v1/agents/{slug}/reassign/", body, format="json")


# --- the rule ---------------------------------------------------------------------------


def test_orphaned_means_owner_left_and_not_retired(world):
    by_query = set(Agent.objects.filter(orphaned_q()).values_list("slug", flat=True))
    assert by_query == {"lost-bot", "paused-bot"}
    by_predicate = {a.slug for a in Agent.objects.select_related("owner") if is_orphaned(a)}
    assert by_predicate == by_query
    assert [a.slug for a in agent_list(filters={"orphaned": "true"})] == ["lost-bot", "paused-bot"]


# --- list filter and badges ---------------------------------------------------------------


def test_the_agents_page_filters_orphans_and_shows_the_badge(client, auditor, world):
    client.force_login(auditor)
    page = client.get("/agents/").content.decode()
    assert 'name="orphaned"' in page  # the filter control
    assert page.count(BADGE) == 2
    orphans = client.get("/agents/?orphaned=true")
    slugs = [a.slug for a in orphans.context["page"]]
    assert slugs == ["lost-bot", "paused-bot"]
    others = client.get("/agents/?orphaned=false")
    assert [a.slug for a in others.context["page"]] == ["old-bot", "pay-bot"]
    assert BADGE not in others.content.decode()


def test_a_bad_filter_value_shows_on_the_form(client, auditor, world):
    client.force_login(auditor)
    response = client.get("/agents/?orphaned=maybe")
    assert response.status_code == 200
    assert response.context["filters"].errors["orphaned"]


def test_the_api_filters_orphans(api, gateway, world):
    body = api.as_user(gateway).get("/api/v1/agents/?orphaned=true").json()
    assert [a["slug"] for a in body["results"]] == ["lost-bot", "paused-bot"]
    response = api.as_user(gateway).get("/api/v1/agents/?orphaned=maybe")
    assert response.status_code == 400
    assert "orphaned" in response.json()["errors"]


def test_the_list_stays_at_constant_queries_with_orphans(
    client, engineer, world, django_assert_num_queries
):
    client.force_login(engineer)
    client.get("/agents/?orphaned=true")
    with django_assert_num_queries(7):  # as the unfiltered list (test_registry_views)
        client.get("/agents/?orphaned=true")
    AgentFactory.create_batch(30, owner=world["lena"], team=world["team"])
    with django_assert_num_queries(7):
        response = client.get("/agents/?orphaned=true")
    assert response.content.decode().count(BADGE) == 25


def test_the_agent_page_shows_the_badge(client, engineer, world):
    client.force_login(engineer)
    assert BADGE in client.get("/agents/lost-bot/").content.decode()
    assert BADGE not in client.get("/agents/old-bot/").content.decode()  # retired
    assert "orphaned" not in client.get("/agents/pay-bot/").content.decode()


# --- dashboard ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "shown"), [("security", True), ("engineer", False), ("auditor", False)]
)
def test_the_dashboard_panel_is_securitys(client, role_users, world, role, shown):
    client.force_login(role_users[role])
    panels = {p["key"]: p for p in client.get("/").context["panels"]}
    assert ("orphaned-agents" in panels) is shown
    if shown:
        panel = panels["orphaned-agents"]
        assert (panel["title"], panel["value"]) == ("Orphaned agents (owner left)", 2)
        assert panel["link"] == "/agents/?orphaned=true"


# --- reassigning: the API -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("security", 200), ("engineer", 403), ("auditor", 403), ("gateway", 403), ("norole", 403)],
)
def test_reassign_per_role(api, role_users, world, role, status):
    response = reassign(api, role_users[role], owner="eve")
    assert response.status_code == status, response.content
    owner = Agent.objects.get(slug="lost-bot").owner.username
    if status == 200:
        assert (response.json()["owner"], owner) == ("eve", "eve")
    else:
        assert response.json()["detail"] == REFUSAL
        assert owner == "lena"


def test_anonymous_reassign_is_a_401(api, world):
    assert reassign(api, None, owner="eve").status_code == 401


@pytest.mark.parametrize(
    ("owner", "fragment"),
    [
        ("nobody", "No user 'nobody'."),
        ("lena", "lena is deactivated"),
        ("oscar", "not a member of team 'payments'"),
        ("aud", "neither an engineer nor security"),
    ],
)
def test_reassign_to_someone_who_cannot_own_is_a_400_on_owner(
    api, security, auditor, world, owner, fragment
):
    if owner == "lena":
        world["lost"].owner = make_user("bob", "engineer")  # so lena is not the present owner
        world["lost"].save()
    response = reassign(api, security, owner=owner)
    assert response.status_code == 400, response.content
    body = response.json()
    assert "owner" in body["errors"]
    assert fragment in body["detail"]


@pytest.mark.parametrize(
    "body",
    [{}, {"owner": ""}, {"owner": "eve", "reason": "x" * 501}, {"owner": "eve", "extra": 1}],
)
def test_reassign_with_a_bad_body_is_a_400(api, security, world, body):
    assert reassign(api, security, **body).status_code == 400
    assert Agent.objects.get(slug="lost-bot").owner.username == "lena"


def test_reassign_to_the_present_owner_is_a_400(api, security, world):
    response = reassign(api, security, slug="pay-bot", owner="eve")
    assert (response.status_code, response.json()["code"]) == (400, "same_owner")


def test_security_may_take_an_agent_of_a_team_they_are_not_in(api, security, world):
    assert reassign(api, security, owner="sec1").status_code == 200
    assert not world["team"].members.filter(pk=security.pk).exists()


def test_reassign_is_in_the_trail_with_the_actor_and_the_reason(api, security, engineer, world):
    agent_type = ContentType.objects.get_for_model(Agent)
    entries = LogEntry.objects.filter(content_type=agent_type, object_pk=str(world["lost"].pk))
    before = entries.count()
    response = reassign(api, security, owner="eve", reason="lena left; eve runs payments now")
    assert response.status_code == 200
    added = list(entries.order_by("pk")[before:])
    assert [entry.actor for entry in added] == [security, security]
    assert added[0].changes_dict["owner"] == [str(world["lena"].pk), str(engineer.pk)]
    assert added[1].changes_dict["owner_reassigned"] == [
        None,
        "lena → eve: lena left; eve runs payments now",
    ]


def test_the_badge_disappears_after_reassign(api, client, security, world):
    assert reassign(api, security, owner="eve").status_code == 200
    client.force_login(security)
    assert BADGE not in client.get("/agents/lost-bot/").content.decode()
    assert client.get("/agents/").content.decode().count(BADGE) == 1  # paused-bot
    assert [a.slug for a in agent_list(filters={"orphaned": "true"})] == ["paused-bot"]


# --- reassigning: the page and the service ------------------------------------------------


def test_security_reassigns_through_the_agent_page(client, security, engineer, world):
    client.force_login(security)
    page = client.get("/agents/lost-bot/").content.decode()
    assert 'action="/agents/lost-bot/reassign/"' in page
    assert '<option value="eve">' in page
    response = client.post("/agents/lost-bot/reassign/", {"owner": "eve"}, follow=True)
    assert response.status_code == 200
    assert "Agent lost-bot now belongs to eve." in response.content.decode()
    assert BADGE not in response.content.decode()


@pytest.mark.parametrize("role", ["engineer", "auditor"])
def test_others_get_no_form_and_a_403(client, role_users, world, role):
    client.force_login(role_users[role])
    assert "/reassign/" not in client.get("/agents/lost-bot/").content.decode()
    response = client.post("/agents/lost-bot/reassign/", {"owner": "eve"})
    assert response.status_code == 403
    assert Agent.objects.get(slug="lost-bot").owner.username == "lena"


def test_the_page_refuses_someone_not_on_the_list(client, security, world):
    client.force_login(security)
    response = client.post("/agents/lost-bot/reassign/", {"owner": "oscar"})
    assert response.status_code == 400
    assert Agent.objects.get(slug="lost-bot").owner.username == "lena"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"owner": "", "reason": "Lena left."}, "owner", "This field is required."),
        ({"owner": "eve", "reason": "r" * 501}, "reason", "at most 500 characters"),
    ],
)
def test_a_refused_reassignment_is_said_on_the_form_with_what_was_typed(
    client, security, world, data, field, message
):
    client.force_login(security)
    page = client.get("/agents/lost-bot/").content.decode()
    assert 'maxlength="500"' in page
    response = client.post("/agents/lost-bot/reassign/", data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page[page.index(f'data-testid="{field}-error"') :].split("</div>")[0]
    assert f'value="{data["reason"]}"' in page
    if data["owner"]:
        assert f'<option value="{data["owner"]}" selected>' in page
    assert "Back to the dashboard" not in page
    assert Agent.objects.get(slug="lost-bot").owner.username == "lena"


def test_reassign_only_reassigns_and_the_transitions_still_work(client, security, world):
    client.force_login(security)
    assert client.get("/agents/lost-bot/reassign/").status_code == 405
    response = client.post("/agents/lost-bot/suspend/", {"reason": "Nobody answers for it."})
    assert response.status_code == 302
    assert Agent.objects.get(slug="lost-bot").status == "suspended"


def test_candidates_are_the_people_the_service_accepts(security, world, auditor, other_engineer):
    agent = world["lost"]
    names = set(owner_candidates(agent).values_list("username", flat=True))
    assert names == {"eve", "sec1"}  # not lena (left), oscar (other team), aud (no role)
    for user in (world["lena"], other_engineer, auditor):
        with pytest.raises(ApplicationError):
            agent_reassign(actor=security, agent=agent, owner=user)


def test_the_service_checks_the_role_again(engineer, world):
    with pytest.raises(Forbidden, match=REFUSAL):
        agent_reassign(actor=engineer, agent=world["lost"], owner=engineer)
