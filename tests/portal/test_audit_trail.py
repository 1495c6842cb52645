import pytest
from auditlog.models import LogEntry

from registry.services.agents import agent_attest, agent_suspend
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def trail(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    agent = AgentFactory(slug="pay-bot", owner=engineer, team=team)
    agent_attest(actor=engineer, agent=agent)
    agent_suspend(actor=security, agent=agent)
    return agent


@pytest.mark.parametrize(
    ("role", "status"),
    [("security", 200), ("auditor", 200), ("engineer", 403), ("gateway", 403), ("norole", 403)],
)
def test_trail_page_and_api_per_role(client, api, role_users, trail, role, status):
    user = role_users[role]
    client.force_login(user)
    assert client.get("/audit/").status_code == status
    response = api.as_user(user).get("/api/v1/audit-events/")
    assert response.status_code == status
    if status == 403:
        assert "Only security and auditors" in response.json()["detail"]


def test_anonymous_gets_login_and_401(client, api, trail):
    assert client.get("/audit/").status_code == 302
    assert api.as_user(None).get("/api/v1/audit-events/").status_code == 401


def test_api_lists_changes_with_actor_and_filters(api, auditor, trail):
    client = api.as_user(auditor)
    body = client.get("/api/v1/audit-events/?object_type=registry.agent&actor=sec1").json()
    assert body["count"] == 1
    event = body["results"][0]
    assert event["actor"] == "sec1"
    assert event["action"] == "update"
    assert event["object_type"] == "registry.agent"
    assert event["object_repr"] == "pay-bot"
    assert event["changes"]["status"] == ["active", "suspended"]
    engineer_events = client.get("/api/v1/audit-events/?actor=eve").json()
    assert engineer_events["count"] == 1
    assert "last_attested_at" in engineer_events["results"][0]["changes"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("object_type=agent", "app_label.model"),
        ("from=yesterday", "from must be a date"),
        ("from=2026-02-01&to=2026-01-01", "must not be after"),
    ],
)
def test_bad_filters_are_400(api, auditor, trail, query, message):
    response = api.as_user(auditor).get(f"/api/v1/audit-events/?{query}")
    assert response.status_code == 400
    assert message in response.json()["detail"]


def test_date_filter_is_inclusive_of_whole_days(api, auditor, trail):
    from django.utils import timezone

    today = timezone.now().date().isoformat()
    body = api.as_user(auditor).get(f"/api/v1/audit-events/?from={today}&to={today}").json()
    assert body["count"] == LogEntry.objects.count()
    body = api.as_user(auditor).get("/api/v1/audit-events/?to=2000-01-01").json()
    assert body["count"] == 0


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_nobody_edits_or_deletes_the_trail(api, security, trail, method):
    entry = LogEntry.objects.first()
    count = LogEntry.objects.count()
    url = f"/api/v1/audit-events/{entry.pk}/" if method != "post" else "/api/v1/audit-events/"
    response = getattr(api.as_user(security), method)(url, {"changes": {}}, format="json")
    assert response.status_code == 405
    assert LogEntry.objects.count() == count
    entry.refresh_from_db()
    assert entry.changes


def test_trail_page_shows_entries_with_constant_queries(
    client, auditor, trail, django_assert_num_queries
):
    client.force_login(auditor)
    client.get("/audit/")
    # session, user, roles, count, page (with actor and type joined), then one query per model
    # the page names (agents, their owners, their teams); object types come from the cache
    with django_assert_num_queries(8):
        page = client.get("/audit/").content.decode()
    assert "pay-bot" in page
    assert "sec1" in page
    for _ in range(20):
        agent_attest(actor=trail.owner, agent=trail)
    with django_assert_num_queries(8):
        client.get("/audit/")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("object_type=agent", "app_label.model"),
        ("from=yesterday", "from must be a date"),
        ("from=2026-02-01&to=2026-01-01", "must not be after"),
    ],
)
def test_bad_filters_are_shown_on_the_page(client, auditor, trail, query, message):
    client.force_login(auditor)
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="alert"' in page
    assert message in page.replace("&#x27;", "'")
    assert response.context["page"].paginator.count == 0
