"""The ID token checks, with real keys behind a real discovery document and JWKS: a token
with a wrong audience or issuer, a bad signature, an expired one, another algorithm, or a
nonce that is not this sign-in's is refused."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation

from directory.oidc import PortalOIDCBackend

pytestmark = pytest.mark.django_db

KID = "idp-key-1"


class _Provider(BaseHTTPRequestHandler):
    documents: dict[str, dict] = {}

    def do_GET(self):
        body = json.dumps(self.documents.get(self.path, {})).encode()
        self.send_response(200 if self.path in self.documents else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def idp(settings):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    # shutdown() waits for the loop's next poll: 0.5 s by default.
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    ).start()
    issuer = f"http://127.0.0.1:{server.server_address[1]}"
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    _Provider.documents = {
        "/.well-known/openid-configuration": {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/auth",
            "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks",
        },
        "/jwks": {"keys": [{**jwk, "kid": KID, "alg": "RS256", "use": "sig"}]},
    }
    settings.OIDC_ISSUER = issuer
    settings.OIDC_RP_CLIENT_ID = "portal"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    cache.clear()
    yield {"issuer": issuer, "key": key}
    server.shutdown()


def id_token(idp, key=None, algorithm="RS256", **claims):
    now = int(time.time())
    payload = {
        "iss": idp["issuer"],
        "aud": "portal",
        "sub": "sara",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-123",
        **claims,
    }
    return jwt.encode(payload, key or idp["key"], algorithm=algorithm, headers={"kid": KID})


def test_a_good_id_token_is_accepted(idp):
    claims = PortalOIDCBackend().verify_token(id_token(idp), nonce="n-123")
    assert claims["sub"] == "sara"


@pytest.mark.parametrize(
    ("claims", "says"),
    [
        ({"aud": "someone-else"}, "Audience"),
        ({"iss": "https://evil.example"}, "issuer"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"nonce": "replayed"}, "Nonce"),
    ],
)
def test_a_bad_id_token_is_refused(idp, claims, says):
    with pytest.raises(SuspiciousOperation, match=says):
        PortalOIDCBackend().verify_token(id_token(idp, **claims), nonce="n-123")


def test_a_token_signed_by_another_key_is_refused(idp):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(SuspiciousOperation, match="Signature verification failed"):
        PortalOIDCBackend().verify_token(id_token(idp, key=other), nonce="n-123")


def test_an_hmac_token_is_refused(idp):
    token = jwt.encode(
        {"iss": idp["issuer"], "aud": "portal", "sub": "sara", "nonce": "n-123"},
        "a-shared-secret-of-thirty-two-bytes!",
        algorithm="HS256",
        headers={"kid": KID},
    )
    with pytest.raises(SuspiciousOperation):
        PortalOIDCBackend().verify_token(token, nonce="n-123")
