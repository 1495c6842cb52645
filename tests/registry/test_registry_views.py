import re

import pytest
from django.urls import reverse

from registry.models import Agent, PolicyVersion
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy, draft_matrix

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")
    demo_policy(security)
    return {"team": team, "agent": agent}


PAGES = ["/agents/", "/agents/pay-bot/", "/policy/"]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize(
    ("role", "status"),
    # The gateway is a service account: API only, no HTML page (kernel.middleware).
    [("engineer", 200), ("security", 200), ("auditor", 200), ("gateway", 403), ("norole", 403)],
)
def test_read_pages_per_role(client, role_users, world, url, role, status):
    client.force_login(role_users[role])
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", [*PAGES, "/agents/new/"])
def test_anonymous_gets_the_login_page(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    ("role", "status"), [("engineer", 200), ("security", 200), ("auditor", 403), ("gateway", 403)]
)
def test_register_page_per_role(client, role_users, world, role, status):
    client.force_login(role_users[role])
    assert client.get("/agents/new/").status_code == status


def test_engineer_registers_an_agent_through_the_form(client, engineer, world):
    client.force_login(engineer)
    response = client.post(
        "/agents/new/",
        {
            "slug": "form-bot",
            "name": "Form bot",
            "team": "payments",
            "tier": "internal",
            "workload_identity": "spiffe://acme/form-bot",
            "repositories": "acme/a\nacme/b\n",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/agents/form-bot/"
    assert b"Agent form-bot registered" in response.content
    agent = Agent.objects.get(slug="form-bot")
    assert (agent.owner, agent.repositories) == (engineer, ["acme/a", "acme/b"])


def test_form_shows_a_duplicate_slug_on_the_field(client, engineer, world):
    client.force_login(engineer)
    response = client.post(
        "/agents/new/",
        {
            "slug": "pay-bot",
            "name": "Dup",
            "team": "payments",
            "tier": "sandbox",
            "workload_identity": "spiffe://acme/dup",
        },
    )
    assert response.status_code == 400
    assert "already exists" in str(response.context["form"].errors["slug"])
    assert Agent.objects.count() == 1


def test_engineer_cannot_pick_a_team_they_are_not_in(client, engineer, world):
    TeamFactory(slug="strangers")
    client.force_login(engineer)
    response = client.post(
        "/agents/new/",
        {
            "slug": "sneaky",
            "name": "S",
            "team": "strangers",
            "tier": "sandbox",
            "workload_identity": "spiffe://acme/sneaky",
        },
    )
    assert "team" in response.context["form"].errors
    assert not Agent.objects.filter(slug="sneaky").exists()


def test_owner_sees_attest_and_edit_outsider_does_not(client, engineer, other_engineer, world):
    client.force_login(engineer)
    page = client.get("/agents/pay-bot/").content
    assert b"Attest: still needed" in page
    assert b">Edit<" in page
    client.force_login(other_engineer)
    page = client.get("/agents/pay-bot/").content
    assert b"Attest: still needed" not in page
    assert b">Edit<" not in page
    assert client.get("/agents/pay-bot/edit/").status_code == 403
    response = client.post("/agents/pay-bot/attest/")
    assert response.status_code == 403
    assert b"owner or a member of its team" in response.content


def test_security_suspends_from_the_agent_page_after_confirming_why(client, security, world):
    client.force_login(security)
    confirm = client.get("/agents/pay-bot/suspend/").content.decode()
    assert "Every decision for pay-bot becomes deny at once" in confirm
    refused = client.post("/agents/pay-bot/suspend/", {"reason": "  "})
    assert refused.status_code == 400
    assert "Say why: the owner is told" in refused.content.decode()
    assert Agent.objects.get(slug="pay-bot").status == "active"
    response = client.post("/agents/pay-bot/suspend/", {"reason": "Leaked a token."}, follow=True)
    page = response.content.decode()
    assert "suspended: every decision is now deny" in page
    assert "by sec1: “Leaked a token.”" in page
    agent = Agent.objects.get(slug="pay-bot")
    assert (agent.status, agent.status_reason, agent.status_changed_by) == (
        "suspended",
        "Leaked a token.",
        security,
    )


def test_engineer_cannot_suspend(client, engineer, world):
    client.force_login(engineer)
    response = client.post("/agents/pay-bot/suspend/")
    assert response.status_code == 403
    assert Agent.objects.get(slug="pay-bot").status == "active"


def test_unknown_agent_and_transition_are_404s(client, engineer, world):
    client.force_login(engineer)
    assert client.get("/agents/ghost/").status_code == 404
    assert client.post("/agents/pay-bot/explode/").status_code == 404


def test_agent_list_filters_and_stale_badge(client, engineer, world):
    from datetime import timedelta

    from django.utils import timezone

    AgentFactory(
        slug="old-bot",
        team=world["team"],
        tier="sandbox",
        last_attested_at=timezone.now() - timedelta(days=120),
    )
    client.force_login(engineer)
    page = client.get("/agents/?tier=sandbox").content.decode()
    assert "old-bot" in page
    assert "pay-bot" not in page
    assert 'class="badge stale"' in page


def test_the_stale_badge_names_the_configured_attestation_window(client, engineer, world, settings):
    from datetime import timedelta

    from django.utils import timezone

    settings.ATTESTATION_MAX_AGE = timedelta(days=30)
    AgentFactory(
        slug="month-bot",
        team=world["team"],
        last_attested_at=timezone.now() - timedelta(days=45),
    )
    client.force_login(engineer)
    listed = client.get("/agents/").content.decode()
    assert 'title="Not attested within 30 days">stale</span>' in listed
    detail = client.get("/agents/month-bot/").content.decode()
    assert "stale: not attested within 30 days" in detail
    assert "90 days" not in listed + detail


def test_agent_list_page_query_count_is_constant(
    client, engineer, world, django_assert_num_queries
):
    client.force_login(engineer)
    client.get("/agents/")
    # session, user, roles, count, page, owner filter choices, team filter choices
    with django_assert_num_queries(7):
        client.get("/agents/")
    AgentFactory.create_batch(60, team=world["team"])
    with django_assert_num_queries(7):
        response = client.get("/agents/")
    assert len(response.context["page"].object_list) == 25
    assert b"Page 1 of 3" in response.content


def test_policy_page_shows_the_matrix(client, auditor, world):
    client.force_login(auditor)
    page = client.get("/policy/").content.decode()
    assert "Showing <strong>v1</strong>" in page
    assert 'data-tier="production" data-capability="deploy:release"' in page
    assert "Open a draft" not in page  # auditors read, never edit


def test_security_edits_a_draft_and_publishes_in_the_browser_forms(client, security, world):
    client.force_login(security)
    client.post(reverse("registry:policy-draft-open"), {"notes": "tighten"})
    data = draft_matrix(client)
    data["effect:sandbox:github:write"] = "approval"
    data["hours:sandbox:github:write"] = "2"
    client.post(reverse("registry:policy-draft-save", args=[2]), data)
    # Sandbox now stricter than production: the review names it and asks why.
    review = client.get(reverse("registry:policy-publish", args=[2])).content.decode()
    assert "production github:write (approval ≤ 8h) is less strict than sandbox" in review
    refused = client.post(reverse("registry:policy-publish", args=[2]), {"reason": ""})
    assert refused.status_code == 400
    assert "say why (a reason) to publish it" in refused.content.decode()
    assert PolicyVersion.objects.get(number=2).status == "draft"
    response = client.post(
        reverse("registry:policy-publish", args=[2]),
        {"reason": "Production follows next week."},
        follow=True,
    )
    assert b"Policy v2 published" in response.content
    v2 = PolicyVersion.objects.get(number=2)
    assert v2.publish_reason == "Production follows next week."
    assert v2.rules.get(tier="sandbox", capability__key="github:write").effect == "approval"
    diff = client.get("/policy/?diff=2&against=1").content.decode()
    assert "Changes from v1 to v2" in diff
    assert "github:write" in diff


def test_bad_draft_rule_is_refused_with_a_message(client, security, world):
    client.force_login(security)
    client.post(reverse("registry:policy-draft-open"))
    data = draft_matrix(client)
    data["effect:sandbox:github:write"] = "jit"
    data["hours:sandbox:github:write"] = ""
    response = client.post(reverse("registry:policy-draft-save", args=[2]), data)
    assert response.status_code == 400
    assert b"needs a maximum duration" in response.content


@pytest.mark.parametrize("role", ["engineer", "auditor"])
def test_non_security_cannot_touch_policy(client, role_users, world, role):
    client.force_login(role_users[role])
    assert client.post(reverse("registry:policy-draft-open")).status_code == 403
    assert client.post(reverse("registry:policy-publish", args=[1])).status_code == 403
    assert PolicyVersion.objects.count() == 1


@pytest.mark.parametrize("url", ["/", "/agents/", "/agents/pay-bot/", "/policy/", "/requests/"])
def test_read_only_pages_refuse_other_methods(client, security, world, url):
    client.force_login(security)
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)(url).status_code == 405


def test_a_bad_filter_value_is_shown_on_the_form_not_a_500(client, engineer, world):
    client.force_login(engineer)
    response = client.get("/agents/?tier=galaxy")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "galaxy is not one of the available choices" in page
    assert "pay-bot" not in page


def test_a_duplicate_slug_is_named_in_the_users_words(client, engineer, world):
    client.force_login(engineer)
    body = {
        "slug": "pay-bot",
        "name": "Dup",
        "team": "payments",
        "tier": "sandbox",
        "workload_identity": "spiffe://acme/dup",
    }
    response = client.post("/agents/new/", body)
    errors = response.context["form"].errors
    assert errors["slug"] == ["An agent with the slug 'pay-bot' already exists."]
    assert 'value="spiffe://acme/dup"' in response.content.decode()
    assert "Agent with this Slug" not in response.content.decode()


def test_a_description_over_the_limit_is_refused_on_its_field(client, api, engineer, world):
    client.force_login(engineer)
    body = {
        "slug": "long-bot",
        "name": "Long",
        "team": "payments",
        "tier": "sandbox",
        "workload_identity": "spiffe://acme/long",
        "description": "x" * 100_000,
    }
    response = client.post("/agents/new/", body)
    page = response.content.decode()
    assert "at most 4000 characters" in str(response.context["form"].errors["description"])
    assert 'maxlength="4000"' in page
    assert 'value="long-bot"' in page
    refused = api.as_user(engineer).post("/api/v1/agents/", body, format="json")
    assert refused.status_code == 400
    assert "description" in refused.json()["errors"]
    edit = client.post("/agents/pay-bot/edit/", {**body, "name": "Pay"})
    assert "description" in edit.context["form"].errors
    assert not Agent.objects.filter(slug="long-bot").exists()
    assert Agent.objects.get(slug="pay-bot").description != body["description"]


def test_the_team_is_chosen_for_an_engineer_in_one_team_only(client, engineer, security, world):
    client.force_login(engineer)  # eve is in payments only
    form = client.get("/agents/new/").content.decode()
    assert '<option value="payments" selected>' in form
    TeamFactory(slug="platform", members=[engineer])
    form = client.get("/agents/new/").content.decode()
    assert '<option value="" selected>---------</option>' in form  # two teams: eve picks


def test_the_version_history_says_which_version_is_in_force(client, security, world):
    client.force_login(security)
    client.post(reverse("registry:policy-draft-open"), {"notes": "v2"})
    client.post(reverse("registry:policy-publish", args=[2]), {"reason": "tighten"})
    client.post(reverse("registry:policy-draft-open"), {"notes": "v3"})
    history = client.get("/policy/").content.decode().split('id="history"', 1)[1]
    rows = history.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert [re.search(r"<td>v(\d+)</td>", row)[1] for row in rows] == ["3", "2", "1"]
    assert '<span class="badge status-draft">draft</span>' in rows[0]
    assert 'data-testid="in-force">in force</span>' in rows[1]
    assert "<small>Published: “tighten”</small>" in rows[1]  # no warning answered: no "despite"
    assert "superseded" in rows[2]
    assert "in force" not in rows[2]
