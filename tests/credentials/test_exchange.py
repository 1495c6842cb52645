"""Token exchange (RFC 8693) with real keys and a real JWKS server: what is issued, and every
subject token that is refused."""

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from credentials.models import IssuedCredential, RefusedExchange
from decisions.models import Decision
from tests.credentials.conftest import bind, exchange, form_post
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT, Platform
from tests.decisions.fixtures import make_grant

pytestmark = pytest.mark.django_db

SANDBOX_SUBJECT = "repo:acme/sandbox:ref:refs/heads/main"


def portal_keys(client):
    return jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())


def verify_offline(client, token, audience):
    """What a resource server does: verify against the published JWKS, no call to the portal."""
    kid = jwt.get_unverified_header(token)["kid"]
    key = portal_keys(client)[kid]
    return jwt.decode(
        token,
        key=key,
        algorithms=["ES256", "EdDSA"],
        audience=audience,
        issuer="http://127.0.0.1:8000",
    )


def test_a_standing_allow_gets_the_full_ttl_and_the_token_verifies_offline(client, world, platform):
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read jira:write")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["issued_token_type"] == "urn:ietf:params:oauth:token-type:jwt"
    assert body["expires_in"] == 900
    assert body["scope"] == "github:read jira:write"
    assert response["Cache-Control"] == "no-store"
    claims = verify_offline(client, body["access_token"], audience="github")
    assert claims["sub"] == "agent:sandbox-bot"
    assert sorted(claims["aud"]) == ["github", "jira"]
    assert claims["scope"] == "github:read jira:write"
    assert claims["policy_version"] == world["policy"].number
    assert claims["grants"] == []
    assert claims["exceptions"] == []
    assert claims["exp"] - claims["iat"] == 900
    credential = IssuedCredential.objects.get(jti=claims["jti"])
    assert credential.agent == world["sandbox"]
    assert credential.subject == SANDBOX_SUBJECT
    # Each capability was decided and recorded like every decision, with the credential's jti
    # and the workload that asked (no person did).
    logged = Decision.objects.filter(credential_jti=claims["jti"])
    assert sorted(logged.values_list("capability_key", "decision")) == [
        ("github:read", "allow"),
        ("jira:write", "allow"),
    ]
    asked_by = f"{credential.provider.slug}: {SANDBOX_SUBJECT}"
    assert set(logged.values_list("caller", "caller_workload")) == {(None, asked_by)}


def test_a_grant_bounds_the_lifetime_and_is_named_in_the_token(client, world, platform):
    grant = make_grant(world["fixer"], "github:read", hours=1, scope="acme/payments-api")
    grant.expires_at = timezone.now() + timedelta(minutes=5)
    grant.save()
    token = platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS)
    response = exchange(client, token, "github:read", resource="acme/payments-api")
    assert response.status_code == 200, response.content
    body = response.json()
    assert 290 <= body["expires_in"] <= 300
    claims = verify_offline(client, body["access_token"], audience="github")
    assert claims["grants"] == [grant.pk]
    assert claims["resource"] == "acme/payments-api"
    assert claims["sub"] == "agent:payments-fixer"


def test_a_denied_capability_issues_nothing_and_says_why(client, world, platform):
    token = platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS)
    response = exchange(client, token, "github:read vault:read_secret")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_scope"
    assert "vault:read_secret: Denied by rule" in body["error_description"]
    assert "github:read: No active grant" in body["error_description"]
    assert not IssuedCredential.objects.exists()
    # The decisions were taken and logged all the same, under the refused credential's jti.
    refused = Decision.objects.exclude(credential_jti="").filter(decision="deny")
    assert refused.count() == 2
    assert {row.caller_workload for row in refused} == {f"github-actions: {GITHUB_SUBJECT}"}
    assert RefusedExchange.objects.get().error == "invalid_scope"


def _hmac_with_public_key(platform):
    """The key-confusion forgery: HS256 "signed" with the provider's public key."""
    public_pem = platform.key.public_key().public_bytes(
        encoding=__import__("cryptography").hazmat.primitives.serialization.Encoding.PEM,
        format=__import__(
            "cryptography"
        ).hazmat.primitives.serialization.PublicFormat.SubjectPublicKeyInfo,
    )

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": platform.kid}).encode())
    payload = b64(json.dumps(platform.claims(SANDBOX_SUBJECT)).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def _unsigned(platform):
    return jwt.encode(platform.claims(SANDBOX_SUBJECT), key=None, algorithm="none")


def _bad_signature(platform):
    token = platform.token(SANDBOX_SUBJECT)
    head, payload, _signature = token.split(".")
    other = Platform(kid=platform.kid).token(SANDBOX_SUBJECT).split(".")[2]
    return f"{head}.{payload}.{other}"


NOW = int(time.time())
BAD_TOKENS = {
    "expired": (lambda p: p.token(SANDBOX_SUBJECT, exp=int(time.time()) - 120), "expired"),
    "not yet valid": (
        lambda p: p.token(SANDBOX_SUBJECT, nbf=int(time.time()) + 600),
        "not valid yet",
    ),
    "issued in the future": (
        lambda p: p.token(SANDBOX_SUBJECT, iat=int(time.time()) + 600, nbf=None),
        "not valid yet",
    ),
    "too old": (
        lambda p: p.token(SANDBOX_SUBJECT, iat=int(time.time()) - 7200, exp=int(time.time()) + 60),
        "at most 3600 s old",
    ),
    "wrong issuer": (
        lambda p: p.token(SANDBOX_SUBJECT, iss="https://evil.example"),
        "No trust provider has the issuer",
    ),
    "wrong audience": (lambda p: p.token(SANDBOX_SUBJECT, aud="someone-else"), "audience"),
    "unknown kid": (
        lambda p: Platform(kid="never-published").token(SANDBOX_SUBJECT),
        "is not one of trust provider",
    ),
    "alg none": (_unsigned, "signed with 'none'"),
    "HMAC with the public key": (_hmac_with_public_key, "signed with 'HS256'"),
    "bad signature": (_bad_signature, "Signature verification failed"),
    "no subject": (lambda p: p.token(None), "not valid"),
    "bound to no agent": (lambda p: p.token("repo:acme/unknown:ref:main"), "bound to no agent"),
    "claims not met (a fork's pull request)": (
        lambda p: p.token(
            GITHUB_SUBJECT, **{**GITHUB_CLAIMS, "repository": "mallory/payments-api"}
        ),
        "claim constraints (repository)",
    ),
    "claims not met (another branch)": (
        lambda p: p.token(GITHUB_SUBJECT, **{**GITHUB_CLAIMS, "ref": "refs/heads/feature"}),
        "claim constraints (ref)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_subject_token_is_refused_and_nothing_is_issued(client, world, platform, case):
    make_token, says = BAD_TOKENS[case]
    response = exchange(client, make_token(platform), "github:read")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid_grant"
    assert says in body["error_description"]
    assert not IssuedCredential.objects.exists()
    assert not Decision.objects.exists()  # refused before anything was decided


def test_a_suspended_agent_gets_no_credential(client, world, platform):
    world["sandbox"].status = "suspended"
    world["sandbox"].save()
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "is suspended" in response.json()["error_description"]
    refused = RefusedExchange.objects.get()
    assert refused.agent == world["sandbox"]


def test_a_subject_bound_to_two_agents_is_refused_and_shown_to_security(
    client, world, platform, provider
):
    bind(world["fixer"], provider, SANDBOX_SUBJECT, {"ref": "refs/heads/*"})
    token = platform.token(SANDBOX_SUBJECT, ref="refs/heads/main")
    response = exchange(client, token, "github:read")
    assert response.status_code == 400
    assert (
        "more than one agent (payments-fixer, sandbox-bot)" in response.json()["error_description"]
    )
    assert RefusedExchange.objects.get().subject == SANDBOX_SUBJECT


def test_a_binding_awaiting_approval_does_not_count_yet(client, world, platform, provider):
    world["bindings"]["fixer"].status = "pending"
    world["bindings"]["fixer"].save()
    response = exchange(client, platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS), "github:read")
    assert response.status_code == 400
    assert "awaits security approval" in response.json()["error_description"]


def test_an_unreachable_jwks_is_a_503_and_issues_nothing(client, world, platform, jwks_server):
    jwks_server.failing = True
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 503
    assert response.json()["error"] == "temporarily_unavailable"
    assert "could not fetch" in response.json()["error_description"]
    assert not IssuedCredential.objects.exists()


def test_keys_are_never_fetched_over_plain_http_from_another_host(
    client, world, platform, jwks_server
):
    """A provider saved before the https rule (or changed in the database) is refused at the
    fetch too: nothing leaves for the network, nothing is issued."""
    from credentials.models import TrustProvider

    TrustProvider.objects.update(jwks_uri="http://keys.example/jwks")
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 503
    assert "is not an https address" in response.json()["error_description"]
    assert jwks_server.hits == 0
    assert not IssuedCredential.objects.exists()


def test_keys_are_cached_and_an_unknown_kid_is_fetched_again_once(
    client, world, platform, jwks_server
):
    assert exchange(client, platform.token(SANDBOX_SUBJECT), "github:read").status_code == 200
    assert exchange(client, platform.token(SANDBOX_SUBJECT), "github:read").status_code == 200
    assert jwks_server.hits == 1  # cached
    rotated = Platform(kid="rotated")
    jwks_server.document = {"keys": [platform.jwk, rotated.jwk]}
    assert exchange(client, rotated.token(SANDBOX_SUBJECT), "github:read").status_code == 200
    assert jwks_server.hits == 2  # the provider rotated: fetched once more
    made_up = Platform(kid="made-up")
    for _ in range(3):
        assert exchange(client, made_up.token(SANDBOX_SUBJECT), "github:read").status_code == 400
    assert jwks_server.hits == 2  # a stream of unknown kids is not a stream of fetches


def test_an_rsa_provider_works_too(client, world, provider, jwks_server):
    rsa_platform = Platform(algorithm="RS256")
    jwks_server.document = {"keys": [rsa_platform.jwk]}
    response = exchange(client, rsa_platform.token(SANDBOX_SUBJECT), "github:read")
    assert response.status_code == 200, response.content


BAD_REQUESTS = [
    ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
    ({"subject_token_type": "urn:ietf:params:oauth:token-type:saml2"}, 400, "invalid_request"),
    ({"subject_token": ""}, 400, "invalid_request"),
    ({"scope": ""}, 400, "invalid_scope"),
    ({"scope": "github"}, 400, "invalid_scope"),
    ({"resource": ["acme/a", "acme/b"]}, 400, "invalid_target"),
    ({"resource": "has space"}, 400, "invalid_target"),
    ({"actor_token": "x"}, 400, "invalid_request"),
]


@pytest.mark.parametrize(("change", "status", "error"), BAD_REQUESTS)
def test_a_malformed_request_gets_an_rfc6749_error(client, world, platform, change, status, error):
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token": platform.token(SANDBOX_SUBJECT),
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "scope": "github:read",
        **change,
    }
    response = form_post(client, "/oauth/token/", form)
    assert response.status_code == status
    assert response.json()["error"] == error
    assert response.json()["error_description"]
    assert not IssuedCredential.objects.exists()


def test_wrong_method_body_and_client_authentication(client, world, platform):
    assert client.get("/oauth/token/").status_code == 405
    json_body = client.post("/oauth/token/", {"a": 1}, content_type="application/json")
    assert json_body.status_code == 400
    assert "form-encoded" in json_body.json()["error_description"]
    with_client = form_post(
        client, "/oauth/token/", {"grant_type": "x"}, HTTP_AUTHORIZATION="Basic Zm9vOmJhcg=="
    )
    assert with_client.status_code == 401
    assert with_client.json()["error"] == "invalid_client"
    assert with_client["WWW-Authenticate"].startswith("Bearer")


def test_the_decision_log_lists_an_exchanges_decisions(client, api, world, platform, auditor):
    response = exchange(client, platform.token(SANDBOX_SUBJECT), "github:read jira:write")
    jti = jwt.decode(response.json()["access_token"], options={"verify_signature": False})["jti"]
    exchange(client, platform.token(SANDBOX_SUBJECT), "github:read")  # another exchange
    listed = api.as_user(auditor).get(f"/api/v1/decisions/?credential={jti}").json()
    assert listed["count"] == 2
    assert {row["credential_jti"] for row in listed["results"]} == {jti}
    # Who asked: no person, the workload that exchanged its token, on the API and the page.
    workload = f"{IssuedCredential.objects.get(jti=jti).provider.slug}: {SANDBOX_SUBJECT}"
    assert {(row["caller"], row["caller_workload"]) for row in listed["results"]} == {
        (None, workload)
    }
    client.force_login(auditor)
    page = client.get(f"/decisions/?credential={jti}").content.decode()
    assert f"<code>{workload}</code>" in page


def test_an_exchange_costs_three_statements(client, world, platform):
    """Bindings with their provider and agent (one query), the decision's facts, then the
    decision and the credential recorded in one statement (PostgreSQL; SQLite, which has no
    data-modifying WITH, takes two in a transaction): whatever the number of agents."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from credentials.services.exchange import exchange as exchange_service

    exchange_service(
        subject_token=platform.token(SANDBOX_SUBJECT), scope="github:read", resource=[]
    )
    with CaptureQueriesContext(connection) as queries:
        exchange_service(
            subject_token=platform.token(SANDBOX_SUBJECT), scope="github:read", resource=[]
        )
    statements = [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == (3 if connection.vendor == "postgresql" else 4), statements


@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/introspect/"])
@pytest.mark.parametrize("field", ["subject_token", "token", "scope"])
def test_a_nul_character_gets_an_rfc6749_error_not_a_page(client, world, platform, path, field):
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "subject_token": platform.token(SANDBOX_SUBJECT),
        "scope": "github:read",
        field: "eyJ\x00x",
    }
    response = form_post(client, path, form)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request contains a NUL (\\0) character; remove it and try again.",
    }
    assert not IssuedCredential.objects.exists()
    assert not RefusedExchange.objects.exists()


@pytest.mark.parametrize("path", ["/oauth/token/", "/oauth/introspect/"])
def test_a_body_too_big_gets_a_413_rfc6749_error(client, world, platform, path):
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:token-exchange",
        "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
        "subject_token": "x" * 3_000_000,
        "token": "y",
    }
    response = form_post(client, path, form)
    assert response.status_code == 413
    assert response.json() == {
        "error": "invalid_request",
        "error_description": "The request body is larger than 2621440 bytes.",
    }
    too_many = form_post(client, path, {f"f{i}": "1" for i in range(1001)})
    assert too_many.status_code == 400
    assert too_many.json()["error_description"] == "The request has more than 1000 fields."
    assert not IssuedCredential.objects.exists()


def test_other_pages_keep_their_own_nul_refusal(client, api, world, security):
    page = client.post("/accounts/login/", {"username": "a\x00", "password": "x"})
    assert page.status_code == 400
    assert "text/html" in page["Content-Type"]
    listed = api.as_user(security).get("/api/v1/trust-providers/?q=%00")
    assert listed.json()["code"] == "nul_character"
