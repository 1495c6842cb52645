"""Introspection (RFC 7662), discovery (RFC 8414), the published JWKS and key rotation."""

import json
import urllib.request
from datetime import timedelta

import jwt
import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from access.models import Grant
from credentials import keys
from credentials.models import SigningKey
from tests.credentials.conftest import exchange, form_post
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT
from tests.decisions.fixtures import make_grant

pytestmark = pytest.mark.django_db

SANDBOX_SUBJECT = "repo:acme/sandbox:ref:refs/heads/main"


def issue(client, platform, subject=SANDBOX_SUBJECT, scope="github:read", **claims):
    response = exchange(client, platform.token(subject, **claims), scope)
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def introspect(api, user, token):
    client = api.as_user(user)
    return form_post(client, "/oauth/introspect/", {"token": token})


def test_a_gateway_learns_a_token_is_active_and_what_it_allows(
    client, api, world, platform, gateway
):
    token = issue(client, platform)
    response = introspect(api, gateway, token)
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["sub"] == "agent:sandbox-bot"
    assert body["scope"] == "github:read"
    assert body["token_type"] == "Bearer"


def test_revoking_the_grant_ends_the_token_at_once(client, api, world, platform, gateway, security):
    grant = make_grant(world["fixer"], "github:read", hours=2)
    token = issue(client, platform, GITHUB_SUBJECT, **GITHUB_CLAIMS)
    assert introspect(api, gateway, token).json()["active"] is True
    Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now(), revoked_by=security)
    assert introspect(api, gateway, token).json() == {"active": False}


def test_suspending_the_agent_ends_its_tokens(client, api, world, platform, gateway):
    token = issue(client, platform)
    world["sandbox"].status = "suspended"
    world["sandbox"].save()
    assert introspect(api, gateway, token).json() == {"active": False}


def test_reactivating_the_agent_revives_none_of_the_tokens_issued_before(
    client, api, world, platform, gateway, security
):
    token = issue(client, platform)
    agent = f"/api/v1/agents/{world['sandbox'].slug}"
    suspended = api.as_user(security).post(f"{agent}/suspend/", {"reason": "leaked"})
    assert suspended.status_code == 200, suspended.content
    assert introspect(api, gateway, token).json() == {"active": False}
    back = api.as_user(security).post(f"{agent}/reactivate/", {"reason": "rotated"})
    assert back.status_code == 200, back.content
    assert introspect(api, gateway, token).json() == {"active": False}  # for good
    with time_machine.travel(timezone.now() + timedelta(seconds=2)):
        fresh = issue(client, platform)  # issued after the reactivation: good
        assert introspect(api, gateway, fresh).json()["active"] is True
        assert introspect(api, gateway, token).json() == {"active": False}


def test_introspection_of_a_standing_allow_costs_two_queries(client, world, platform):
    """The published keys and the credential with its agent (the status rule reads the
    agent's row, no more); a token with grants or exceptions adds one count each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from credentials.services.introspection import introspect as introspect_service

    token = issue(client, platform)
    assert introspect_service(token)["active"] is True  # the published keys, cached
    with CaptureQueriesContext(connection) as queries:
        assert introspect_service(token)["active"] is True
    assert len(queries) == 2, [q["sql"] for q in queries]


def test_an_expired_forged_or_garbage_token_is_inactive(client, api, world, platform, gateway):
    token = issue(client, platform)
    head, payload, signature = token.split(".")
    claims = json.loads(jwt.utils.base64url_decode(payload))
    claims["scope"] = "deploy:release"
    forged = (
        f"{head}.{jwt.utils.base64url_encode(json.dumps(claims).encode()).decode()}.{signature}"
    )
    assert introspect(api, gateway, forged).json() == {"active": False}
    assert introspect(api, gateway, "not-a-token").json() == {"active": False}
    # A token signed by the workload platform (not the portal) is not the portal's.
    assert introspect(api, gateway, platform.token(SANDBOX_SUBJECT)).json() == {"active": False}
    with time_machine.travel(timezone.now() + timedelta(seconds=960)):
        assert introspect(api, gateway, token).json() == {"active": False}


@pytest.mark.parametrize(
    ("role", "status"),
    [("gateway", 200), ("security", 200), ("engineer", 403), ("auditor", 403), ("norole", 403)],
)
def test_who_may_introspect(client, api, world, platform, role_users, role, status):
    token = issue(client, platform)
    response = introspect(api, role_users[role], token)
    assert response.status_code == status
    if status == 403:
        assert response.json()["error_description"] == (
            "Only gateways and security introspect tokens."
        )


def test_introspection_without_credentials_is_a_401(client, world):
    response = form_post(client, "/oauth/introspect/", {"token": "x"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Bearer")
    bad = form_post(client, "/oauth/introspect/", {"token": "x"}, HTTP_AUTHORIZATION="Token nope")
    assert bad.status_code == 401


def test_discovery_names_every_endpoint(client, db):
    body = client.get("/.well-known/oauth-authorization-server").json()
    assert body["issuer"] == "http://127.0.0.1:8000"
    assert body["token_endpoint"] == "http://127.0.0.1:8000/oauth/token/"
    assert body["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
    assert body["introspection_endpoint"] == "http://127.0.0.1:8000/oauth/introspect/"
    assert body["grant_types_supported"] == ["urn:ietf:params:oauth:grant-type:token-exchange"]
    assert body["token_endpoint_auth_methods_supported"] == ["none"]


def test_the_jwks_publishes_public_keys_only(client, db):
    document = client.get("/.well-known/jwks.json").json()
    assert len(document["keys"]) == 1
    (key,) = document["keys"]
    assert key["kty"] == "EC"
    assert key["crv"] == "P-256"
    assert key["alg"] == "ES256"
    assert "d" not in key  # the private part
    stored = SigningKey.objects.get()
    assert stored.kid == key["kid"]
    assert "PRIVATE KEY" not in stored.private_key  # encrypted at rest


def test_rotation_keeps_the_old_key_published_until_its_last_token_expires(
    client, api, world, platform, gateway, security
):
    token = issue(client, platform)
    old_kid = jwt.get_unverified_header(token)["kid"]
    call_command("rotate_signing_key", "--as", security.username)
    keys.forget_active_key()
    kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
    assert old_kid in kids
    assert len(kids) == 2
    new_token = issue(client, platform)
    assert jwt.get_unverified_header(new_token)["kid"] != old_kid
    assert introspect(api, gateway, token).json()["active"] is True  # still valid
    with time_machine.travel(timezone.now() + timedelta(seconds=901)):
        kids = [key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]]
        assert kids == [jwt.get_unverified_header(new_token)["kid"]]


def test_an_eddsa_portal_key(client, world, platform, settings):
    settings.CREDENTIAL_SIGNING_ALGORITHM = "EdDSA"
    keys.rotate()
    token = issue(client, platform)
    assert jwt.get_unverified_header(token)["alg"] == "EdDSA"
    key = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())[
        jwt.get_unverified_header(token)["kid"]
    ]
    assert jwt.decode(token, key=key, algorithms=["EdDSA"], audience="github")["sub"] == (
        "agent:sandbox-bot"
    )


@pytest.mark.django_db(transaction=True)
def test_end_to_end_a_resource_server_verifies_offline_then_introspection_sees_the_revocation(
    live_server, world, platform, gateway, security, settings
):
    """Over real HTTP: exchange, verify with PyJWKClient against the published JWKS (as a
    resource server would, with no call to the portal per request), revoke, introspect."""
    settings.PORTAL_ISSUER = live_server.url
    grant = make_grant(world["fixer"], "github:write", hours=2)
    base = live_server.url
    token_response = _post(
        f"{base}/oauth/token/",
        {
            "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
            "subject_token": platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS),
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "scope": "github:write",
        },
    )
    access_token = token_response["access_token"]
    with urllib.request.urlopen(f"{base}/.well-known/oauth-authorization-server") as answer:  # noqa: S310
        metadata = json.load(answer)
    signing_key = jwt.PyJWKClient(metadata["jwks_uri"]).get_signing_key_from_jwt(access_token)
    claims = jwt.decode(
        access_token, signing_key, algorithms=["ES256"], audience="github", issuer=base
    )
    assert claims["scope"] == "github:write"
    assert claims["grants"] == [grant.pk]
    from rest_framework.authtoken.models import Token

    gateway_token = Token.objects.create(user=gateway).key
    assert _post(metadata["introspection_endpoint"], {"token": access_token}, gateway_token)[
        "active"
    ]
    Grant.objects.filter(pk=grant.pk).update(revoked_at=timezone.now(), revoked_by=security)
    assert _post(metadata["introspection_endpoint"], {"token": access_token}, gateway_token) == {
        "active": False
    }


def _post(url, form, token=None):
    from urllib.parse import urlencode

    request = urllib.request.Request(url, data=urlencode(form).encode(), method="POST")  # noqa: S310
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if token:
        request.add_header("Authorization", f"Token {token}")
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)
