import pytest
from django.db import OperationalError
from django.urls import reverse

from tests.portal.factories import PASSWORD

pytestmark = pytest.mark.django_db

NAV = {
    "engineer": {
        "Dashboard",
        "Agents",
        "Policy",
        "My requests",
        "Grants",
        "Exceptions",
        "Compliance",
    },
    "security": {
        "Dashboard",
        "Agents",
        "Policy",
        "My requests",
        "Grants",
        "Approvals",
        "Exceptions",
        "Review",
        "Trust",
        "Compliance",
        "Audit trail",
    },
    "auditor": {
        "Dashboard",
        "Agents",
        "Policy",
        "Grants",
        "Exceptions",
        "Review",
        "Compliance",
        "Audit trail",
    },
}


def test_anonymous_dashboard_redirects_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/")
    login = client.get(response["Location"])
    assert b"Log in" in login.content


def test_login_with_good_password_lands_on_dashboard(client, engineer):
    response = client.post(
        "/accounts/login/", {"username": "eve", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/"
    assert b"Signed in as <strong>eve</strong>" in response.content


def test_login_with_wrong_password_says_so(client, engineer):
    response = client.post("/accounts/login/", {"username": "eve", "password": "nope"})
    assert response.status_code == 200
    assert b"didn't match" in response.content
    assert "_auth_user_id" not in client.session


def test_logout_is_a_post_and_ends_the_session(client, engineer):
    client.force_login(engineer)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("role", ["engineer", "security", "auditor"])
def test_navigation_shows_each_role_what_it_can_use(client, role_users, role):
    client.force_login(role_users[role])
    response = client.get("/")
    labels = {entry["label"] for entry in response.context["nav_entries"]}
    assert labels == NAV[role]


def test_user_without_role_is_told_to_ask_for_one(client, no_role_user):
    client.force_login(no_role_user)
    assert b"has no role yet" in client.get("/").content


def test_healthz_reports_database_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "ok"


def test_healthz_is_503_when_database_is_unreachable(client, monkeypatch, settings):
    from django.db import connection

    settings.CELERY_BROKER_URL = ""  # the embedded default: no broker to ask about

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "unavailable",
        "broker": "in-process",
        "error": "OperationalError",
    }


def test_admin_is_served(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_unknown_page_is_a_friendly_404(client, engineer):
    client.force_login(engineer)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"There is nothing at this address" in response.content
