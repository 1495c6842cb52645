"""Friendly error pages (403, 404, 405, 500) for pages, JSON for /api/; the favicon; the skip
link on every page."""

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def test_404_is_a_page_that_says_so_and_json_under_the_api(client, auditor, api):
    client.force_login(auditor)
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert '<h1 id="error-heading">Not found</h1>' in page
    assert "There is nothing at this address." in page
    assert 'href="/"' in page  # a way back
    body = api.as_user(auditor).get("/api/v1/no-such-endpoint/")
    assert body.status_code == 404
    assert body.json()["code"] == "not_found"


def test_403_is_a_page_with_the_reason(client, engineer):
    client.force_login(engineer)
    response = client.get("/audit/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "<title>Not allowed · Agent Governance Portal</title>" in page
    assert "Only security and auditors" in page


BACK = '<a href="{}" data-testid="back">Back to the page you were on</a>'


@pytest.mark.parametrize("url", ["/audit/", "/no/such/page/", "/requests/999999/"])
def test_a_refusal_links_back_to_the_page_of_this_site_the_browser_came_from(client, engineer, url):
    """A role refusal (before any object is read), a 404 from the router and one from a
    service: each offers the page the person came from, by its Referer."""
    client.force_login(engineer)
    came = client.get(url, HTTP_REFERER="http://testserver/agents/?tier=production")
    assert came.status_code in (403, 404)
    assert BACK.format("/agents/?tier=production") in came.content.decode()
    for elsewhere in ("https://evil.example/agents/", "", "not a url", f"http://testserver{url}"):
        page = client.get(url, HTTP_REFERER=elsewhere).content.decode()
        assert 'data-testid="back"' not in page, elsewhere
        assert "Back to the dashboard" in page


def test_405_is_a_page_not_a_blank_one(client, auditor):
    client.force_login(auditor)
    response = client.post("/audit/")
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    page = response.content.decode()
    assert "Wrong kind of request" in page
    assert "This address does not take a POST request (it takes GET, HEAD)." in page


def test_405_under_the_api_is_json(api, security):
    response = api.as_user(security).post("/api/v1/audit-events/", {}, format="json")
    assert response.status_code == 405
    assert "detail" in response.json()
    response = Client().put("/healthz")  # a plain Django view: still a page that says why
    assert response.status_code == 405
    assert "does not take a PUT request" in response.content.decode()


@pytest.fixture
def broken_dashboard(monkeypatch):
    def explode(user):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr("portal.views.dashboard_context", explode)


def test_500_says_something_went_wrong_without_the_traceback(settings, auditor, broken_dashboard):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    client.force_login(auditor)
    response = client.get("/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "it has been logged" in page
    assert "secret-internal-detail" not in page
    assert "Traceback" not in page
    assert "RuntimeError" not in page


def test_500_under_the_api_is_json(settings, auditor, monkeypatch):
    settings.DEBUG = False

    def explode(**kwargs):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr("kernel.api.audit.audit_events", explode)
    client = Client(raise_request_exception=False)
    client.force_login(auditor)
    response = client.get("/api/v1/audit-events/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"
    assert "secret-internal-detail" not in response.content.decode()


def test_favicon_ico_leads_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.ico"
    assert finders.find("img/favicon.ico")
    assert finders.find("img/favicon.svg")


def test_every_page_has_a_skip_link_to_main_and_the_icons(client, auditor):
    for path in ("/accounts/login/", "/no/such/page/"):
        page = client.get(path).content.decode()
        assert '<a class="skip-link" href="#main">Skip to main content</a>' in page
        assert '<main id="main" tabindex="-1">' in page
        assert 'rel="icon" href="/static/img/favicon.svg"' in page


def test_an_expired_form_says_reload_and_changes_nothing(db, security):
    from django.test import Client

    from registry.models import PolicyVersion

    client = Client(enforce_csrf_checks=True)
    client.force_login(security)
    before = PolicyVersion.objects.count()
    response = client.post("/policy/draft/", {"notes": "no token"})
    assert response.status_code == 403
    assert "This form has expired" in response.content.decode()
    assert PolicyVersion.objects.count() == before
