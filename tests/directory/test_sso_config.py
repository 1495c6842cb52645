"""Single sign-on as configured: the login page, the password switch (with its break-glass
path), and a clear page when the identity provider cannot be used."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.contrib.auth.models import User

from kernel.roles import Role
from tests.portal.factories import make_user

pytestmark = pytest.mark.django_db

BACKENDS = ["django.contrib.auth.backends.ModelBackend", "directory.oidc.PortalOIDCBackend"]


@pytest.fixture
def sso(settings):
    settings.OIDC_ISSUER = "http://127.0.0.1:9"  # nothing listens there
    settings.OIDC_PROVIDER_NAME = "Okta"
    settings.OIDC_RP_CLIENT_ID = "portal"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    return settings


def test_the_login_page_offers_sso_only_when_configured(client, settings):
    assert "Sign in with" not in client.get("/accounts/login/").content.decode()
    settings.OIDC_ISSUER = "https://idp.example"
    settings.OIDC_PROVIDER_NAME = "Okta"
    assert "Sign in with Okta" in client.get("/accounts/login/").content.decode()


def test_with_password_login_off_only_superusers_and_service_accounts_use_passwords(
    client, api, sso
):
    sso.PASSWORD_LOGIN = False
    make_user("eng", Role.ENGINEER, password="pw-eng-12345")
    make_user("gw", Role.GATEWAY, password="pw-gw-12345")
    User.objects.create_superuser("root", "root@example.test", "pw-root-12345")
    page = client.post("/accounts/login/", {"username": "eng", "password": "pw-eng-12345"})
    assert "Password sign-in is turned off" in page.content.decode()
    assert "_auth_user_id" not in client.session
    assert "break-glass" in client.get("/accounts/login/").content.decode()
    token = api.post("/api/v1/auth/token/", {"username": "eng", "password": "pw-eng-12345"})
    assert token.status_code == 403
    assert "Password sign-in is turned off" in token.json()["detail"]
    gateway = api.post("/api/v1/auth/token/", {"username": "gw", "password": "pw-gw-12345"})
    assert gateway.status_code == 200
    # The break-glass path: a superuser still signs in with a password, IdP down or not.
    root = client.post("/accounts/login/", {"username": "root", "password": "pw-root-12345"})
    assert root.status_code == 302
    assert client.get("/").status_code == 200


def test_an_unreachable_identity_provider_gets_a_clear_page(client, sso):
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "Okta sign-in is unavailable" in page
    assert "could not be read" in page
    assert 'on the <a href="/accounts/login/">login page</a>' in page  # the way in meanwhile


class _Discovery(BaseHTTPRequestHandler):
    document: dict = {}

    def do_GET(self):
        body = json.dumps(self.document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def bad_discovery():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    # shutdown() waits for the loop's next poll: 0.5 s by default.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_a_bad_discovery_document_gets_a_clear_page(client, sso, bad_discovery):
    sso.OIDC_ISSUER = bad_discovery
    _Discovery.document = {"issuer": bad_discovery, "token_endpoint": "x"}
    response = client.get("/oidc/authenticate/")
    assert response.status_code == 503
    assert "is not an OpenID configuration (no authorization_endpoint)" in (
        response.content.decode()
    )
    _Discovery.document = {
        "issuer": "https://someone-else.example",
        "authorization_endpoint": "a",
        "token_endpoint": "t",
        "jwks_uri": "j",
    }
    from django.core.cache import cache

    cache.clear()
    response = client.get("/oidc/authenticate/")
    assert "names the issuer https://someone-else.example" in response.content.decode()


def test_a_callback_without_a_sign_in_in_progress_is_refused(client, sso):
    response = client.get("/oidc/callback/?code=stolen&state=forged")
    assert response.status_code in (302, 400)
    assert "_auth_user_id" not in client.session


def test_someone_with_no_role_is_told_so(client, sso):
    user = make_user("newbie")
    client.force_login(user)
    response = client.get("/accounts/no-role/")
    assert response.status_code == 403
    assert "have no role here yet" in response.content.decode()


def test_a_post_to_the_no_role_page_is_refused_saying_why(client, sso):
    client.force_login(make_user("newbie"))
    response = client.post("/accounts/no-role/")
    assert response.status_code == 405
    assert "Wrong kind of request" in response.content.decode()


def test_logout_is_a_post_and_ends_the_session(client, engineer):
    client.force_login(engineer)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302
