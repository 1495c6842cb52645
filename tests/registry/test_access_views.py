import pytest

from registry.models import AccessRequest, Grant
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(engineer, other_engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return {
        "prod": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="docs-bot", owner=engineer, team=team, tier="sandbox"),
    }


def file_request(client, **overrides):
    data = {
        "agent": "pay-bot",
        "capability": "github:merge",
        "duration_hours": "2",
        "justification": "hotfix",
        **overrides,
    }
    return client.post("/requests/new/", data, follow=True)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("/requests/", {"engineer", "security", "auditor"}),
        ("/requests/new/", {"engineer", "security"}),
        ("/approvals/", {"security"}),
    ],
)
@pytest.mark.parametrize("role", ["engineer", "security", "auditor", "gateway", "norole"])
def test_pages_per_role(client, role_users, world, url, allowed, role):
    client.force_login(role_users[role])
    assert client.get(url).status_code == (200 if role in allowed else 403)


def test_form_offers_only_my_agents_and_embeds_the_rules(client, engineer, other_engineer, world):
    AgentFactory(slug="not-mine", owner=other_engineer)
    client.force_login(engineer)
    page = client.get("/requests/new/").content.decode()
    assert 'value="pay-bot"' in page
    assert 'value="not-mine"' not in page
    assert '"github:merge": {"effect": "approval", "max": 4}' in page
    assert '"pay-bot": "production"' in page


def test_filing_through_the_form_and_approving_in_the_queue(
    client, engineer, security, second_security, world
):
    client.force_login(engineer)
    response = file_request(client)
    assert b"needs 2 security approval(s)" in response.content
    request = AccessRequest.objects.get()
    client.force_login(security)
    queue = client.get("/approvals/").content.decode()
    assert f'data-request="{request.pk}"' in queue
    client.post(f"/requests/{request.pk}/approve/", {"next": "/approvals/"})
    assert f'data-request="{request.pk}"' not in client.get("/approvals/").content.decode()
    client.force_login(second_security)
    response = client.post(f"/requests/{request.pk}/approve/", follow=True)
    assert b"approved: grant issued" in response.content
    assert Grant.objects.filter(request=request).exists()
    client.force_login(engineer)
    detail = client.get(f"/requests/{request.pk}/").content.decode()
    assert "sec1 approved" in detail
    assert "sec2 approved" in detail
    assert 'data-testid="grant"' in detail


def test_form_shows_policy_refusal_on_the_field(client, engineer, world):
    client.force_login(engineer)
    response = file_request(client, capability="vault:read_secret")
    assert "policy exception" in str(response.context["form"].errors["capability"])
    response = file_request(client, duration_hours="9")
    assert "the maximum is 4 hours" in str(response.context["form"].errors["duration_hours"])
    assert not AccessRequest.objects.exists()


def test_engineer_cannot_approve_and_forged_ids_are_404(client, engineer, other_engineer, world):
    client.force_login(engineer)
    file_request(client)
    request = AccessRequest.objects.get()
    response = client.post(f"/requests/{request.pk}/approve/")
    assert response.status_code == 403
    client.force_login(other_engineer)
    assert client.get(f"/requests/{request.pk}/").status_code == 404
    assert client.post(f"/requests/{request.pk}/cancel/").status_code == 404
    assert client.get("/requests/99999/").status_code == 404
    assert AccessRequest.objects.get().status == "pending"


def test_deny_without_comment_is_refused_with_a_message(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client)
    request = AccessRequest.objects.get()
    client.force_login(security)
    response = client.post(f"/requests/{request.pk}/deny/", {"comment": ""})
    assert response.status_code == 400
    assert b"Say why the request is denied" in response.content


def test_agent_page_shows_active_grants_with_time_left(client, engineer, world):
    client.force_login(engineer)
    file_request(client, agent="docs-bot", capability="github:write", duration_hours="8")
    page = client.get("/agents/docs-bot/").content.decode()
    assert "Active grants" in page
    assert "github:write" in page
    assert 'data-testid="time-left">7' in page  # 7 hours, 59 minutes


def test_dashboard_panels(client, engineer, security, world):
    client.force_login(engineer)
    file_request(client)
    page = client.get("/").content.decode()
    assert 'data-panel="my-pending-requests"' in page
    client.force_login(security)
    panels = {p["key"]: p.get("value") for p in client.get("/").context["panels"]}
    assert panels["approval-queue"] == 1


def test_request_list_query_count(client, engineer, world, django_assert_num_queries):
    client.force_login(engineer)
    file_request(client)
    client.get("/requests/")
    with django_assert_num_queries(6):  # session, user, roles, count, page, approvals
        client.get("/requests/")
    for key in ("github:write", "jira:write", "deploy:release"):
        file_request(client, capability=key, duration_hours="1")
    with django_assert_num_queries(6):
        response = client.get("/requests/")
    assert len(response.context["page"].object_list) == 4
