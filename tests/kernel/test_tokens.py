"""People's credentials: token expiry and revocation, login throttling, the gateway's
API-only login, and the Content-Security-Policy header."""

from datetime import timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.authtoken.models import Token

from decisions.models import Decision
from kernel.throttle import MAX_FAILURES, WINDOW_SECONDS
from tests.portal.factories import PASSWORD
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db

DECISION = {"agent": "pay-bot", "capability": "github:read"}


@pytest.fixture
def world(engineer, security):
    team = TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    return AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production")


def _age(user, *, hours: int) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=hours))
    return token


def _get_token(api, username, password=PASSWORD, **extra):
    return api.post(
        "/api/v1/auth/token/", {"username": username, "password": password}, format="json", **extra
    )


# --- expiry ---------------------------------------------------------------------------------


def test_an_expired_token_is_refused_on_the_api(api, auditor, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    client = api.as_user(auditor)
    assert client.get("/api/v1/audit-events/").status_code == 200
    _age(auditor, hours=25)
    response = client.get("/api/v1/audit-events/")
    assert response.status_code == 401
    assert "Token expired: ask for a new one at /api/v1/auth/token/" in response.json()["detail"]


def test_an_expired_token_is_refused_on_the_decision_fast_path(api, gateway, world, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    client = api.as_user(gateway)
    assert client.post("/api/v1/decisions/", DECISION, format="json").status_code == 200
    _age(gateway, hours=25)
    response = client.post("/api/v1/decisions/", DECISION, format="json")
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Token expired: ask for a new one")
    assert Decision.objects.count() == 1  # the refused call decided and recorded nothing


def test_a_token_within_its_lifetime_still_works(api, gateway, world, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    client = api.as_user(gateway)
    _age(gateway, hours=23)
    assert client.post("/api/v1/decisions/", DECISION, format="json").status_code == 200


def test_asking_again_after_expiry_gives_a_fresh_token(api, engineer, settings):
    settings.API_TOKEN_TTL_HOURS = 24
    old = _age(engineer, hours=25)
    response = _get_token(api, "eve")
    assert response.status_code == 200
    assert response.json()["token"] != old.key
    assert not Token.objects.filter(key=old.key).exists()
    assert _get_token(api, "eve").json()["token"] == response.json()["token"]  # still fresh


# --- revocation -----------------------------------------------------------------------------


def test_a_password_change_revokes_the_users_tokens(api, auditor):
    client = api.as_user(auditor)
    auditor.set_password("another-long-passphrase")
    auditor.save()
    assert not Token.objects.filter(user=auditor).exists()
    assert client.get("/api/v1/audit-events/").status_code == 401


def test_deactivation_revokes_the_users_tokens(api, gateway):
    api.as_user(gateway)
    gateway.is_active = False
    gateway.save(update_fields=["is_active"])
    assert not Token.objects.filter(user=gateway).exists()


def test_other_saves_keep_the_token(api, auditor):
    api.as_user(auditor)
    auditor.first_name = "Audrey"
    auditor.save()
    assert Token.objects.filter(user=auditor).exists()


# --- throttling -----------------------------------------------------------------------------


def test_token_requests_are_throttled_after_repeated_failures(api, engineer):
    for _ in range(MAX_FAILURES):
        assert _get_token(api, "eve", "wrong").status_code == 400
    response = _get_token(api, "eve")  # the right password does not help while throttled
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed logins" in response.json()["detail"]
    with time_machine.travel(timezone.now() + timedelta(seconds=WINDOW_SECONDS + 5)):
        assert _get_token(api, "eve").status_code == 200


def test_throttling_counts_per_client_address(api, engineer, security):
    for index in range(MAX_FAILURES):
        _get_token(api, f"nobody{index}", "wrong")
    assert _get_token(api, "eve").status_code == 429
    other = _get_token(api, "eve", REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_a_success_resets_the_username_count(api, engineer):
    for _ in range(MAX_FAILURES - 1):
        _get_token(api, "eve", "wrong")
    assert _get_token(api, "eve").status_code == 200
    assert _get_token(api, "eve", "wrong", REMOTE_ADDR="10.0.0.9").status_code == 400
    assert _get_token(api, "eve", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_a_name_of_any_length_or_script_is_counted_under_a_short_ascii_key(api, engineer):
    """Whatever is typed as the username, the count's cache key stays short and ASCII (a
    memcached key may not be longer than 250 bytes or hold spaces; Redis would keep 10 KB)."""
    typed = " Ève 東京 😀 " + "x" * 10_000
    keys = []
    with patch.object(cache, "set", wraps=cache.set) as stored:
        for _ in range(MAX_FAILURES):
            _get_token(api, typed, "wrong", REMOTE_ADDR=f"10.0.0.{len(keys) + 1}")
            keys = [call.args[0] for call in stored.call_args_list if "username" in call.args[0]]
    assert keys
    assert all(len(key) < 100 and key.isascii() and " " not in key for key in keys)
    # ...and still counts that name, from any address, however it is cased or spaced.
    assert _get_token(api, typed.upper().strip(), "wrong", REMOTE_ADDR="10.9.9.9").status_code == (
        429
    )


def test_the_login_page_is_throttled_after_repeated_failures(client, engineer):
    for _ in range(MAX_FAILURES):
        response = client.post("/accounts/login/", {"username": "eve", "password": "nope"})
        assert response.status_code == 200
    response = client.post("/accounts/login/", {"username": "eve", "password": PASSWORD})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert b"Too many failed logins" in response.content
    assert "_auth_user_id" not in client.session


# --- the gateway uses the API only ----------------------------------------------------------


def test_the_gateway_cannot_log_in_to_the_pages(client, gateway):
    response = client.post("/accounts/login/", {"username": "gw", "password": PASSWORD})
    assert response.status_code == 200
    assert b"authenticates to the API only" in response.content
    assert "_auth_user_id" not in client.session


def test_a_gateway_session_opens_no_page(client, gateway):
    client.force_login(gateway)
    response = client.get("/")
    assert response.status_code == 403
    assert b"authenticates to the API only" in response.content


def test_the_gateway_still_gets_a_token(api, gateway):
    assert _get_token(api, "gw").status_code == 200


# --- Content-Security-Policy ----------------------------------------------------------------


def test_pages_and_the_api_carry_a_content_security_policy(client, api, engineer):
    client.force_login(engineer)
    for response in (client.get("/"), client.get("/accounts/login/"), api.get("/api/v1/")):
        policy = response["Content-Security-Policy"]
        assert "default-src 'self'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


def test_the_api_docs_render_under_their_own_policy(client, engineer):
    client.force_login(engineer)
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert b"<script>" not in page.content  # the start-up script is served as a file
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
