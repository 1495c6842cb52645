"""A workload platform for tests: real keys, a real JWKS server on a free port, real tokens.

`JwksServer` serves a JWK Set over HTTP from a thread (like a CI provider's
`/.well-known/jwks`), counts its hits, and can be told to fail. `Platform` holds a signing
key and mints subject tokens the way GitHub Actions or Kubernetes would.
"""

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa

ISSUER = "https://ci.test.example"
AUDIENCE = "https://portal.test.example"


class JwksServer:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.hits = 0
        self.failing = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits += 1
                if server.failing:
                    self.send_response(500)
                    self.end_headers()
                    return
                body = json.dumps(server.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # shutdown() waits for the loop's next poll: 0.5 s by default, at every test's teardown.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/.well-known/jwks"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def public_jwk(private_key: Any, algorithm: str, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.get_algorithm_by_name(algorithm).to_jwk(private_key.public_key()))
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


@dataclass
class Platform:
    """A workload identity platform: its key, and tokens it signs for its workloads."""

    issuer: str = ISSUER
    audience: str = AUDIENCE
    algorithm: str = "ES256"
    kid: str = field(default_factory=lambda: f"k-{uuid.uuid4().hex[:8]}")
    key: Any = None

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = (
                rsa.generate_private_key(public_exponent=65537, key_size=2048)
                if self.algorithm.startswith(("RS", "PS"))
                else ec.generate_private_key(ec.SECP256R1())
            )

    @property
    def jwk(self) -> dict[str, Any]:
        return public_jwk(self.key, self.algorithm, self.kid)

    def claims(self, subject: str, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": uuid.uuid4().hex,
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, subject: str, *, headers: dict | None = None, **claims: Any) -> str:
        return jwt.encode(
            self.claims(subject, **claims),
            self.key,
            algorithm=self.algorithm,
            headers={"kid": self.kid, **(headers or {})},
        )


# GitHub Actions' OIDC claims for a workflow on main of acme/payments-api, in production.
GITHUB_SUBJECT = "repo:acme/payments-api:environment:production"
GITHUB_CLAIMS = {
    "repository": "acme/payments-api",
    "ref": "refs/heads/main",
    "environment": "production",
    "event_name": "push",
}
