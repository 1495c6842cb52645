"""A demo workload platform whose key the portal holds, and bindings for the demo agents.

The platform ("demo-ci") signs subject tokens like a CI system or a cluster would; its
private key lives in MEDIA_ROOT/demo/ (demo only: a real provider's key never comes near the
portal), and `manage.py mint_demo_workload_token <agent>` signs a token with it.
"""

import os
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from credentials.models import BindingApproval, BindingStatus, IdentityBinding, TrustProvider
from credentials.rules import required_approvals_for
from registry.models import Agent

PROVIDER = "demo-ci"
ISSUER = "https://ci.demo.acme.example"
AUDIENCE = "agent-governance-portal"
KID = "demo-ci-1"

# agent -> (subject, claims): a GitHub Actions job on main, a docs pipeline, a SPIFFE workload.
BINDINGS = {
    "payments-fixer": (
        "repo:acme/payments-api:environment:production",
        {"repository": "acme/payments-api", "ref": "refs/heads/main", "environment": "production"},
    ),
    "docs-helper": ("repo:acme/docs:ref:refs/heads/main", {"repository": "acme/docs"}),
    "ci-bot": ("spiffe://acme.example/ns/ci/sa/ci-bot", {}),
}


def key_path() -> Path:
    return Path(settings.MEDIA_ROOT) / "demo" / "workload-signing-key.pem"


def demo_private_key() -> ec.EllipticCurvePrivateKey:
    """The demo platform's key, made on first use (0600, beside the media files)."""
    path = key_path()
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)  # noqa: S101 (written below)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(pem)
    return key


def demo_jwks() -> dict:
    public = demo_private_key().public_key()
    jwk = jwt.get_algorithm_by_name("ES256").to_jwk(public, as_dict=True)
    return {"keys": [{**jwk, "kid": KID, "alg": "ES256", "use": "sig"}]}


def seed_credentials() -> None:
    provider, _ = TrustProvider.objects.update_or_create(
        slug=PROVIDER,
        defaults={
            "name": "Demo CI (the portal holds its key: demo only)",
            "issuer": ISSUER,
            "jwks_uri": "",
            "jwks": demo_jwks(),
            "audience": AUDIENCE,
        },
    )
    users = {u.username: u for u in User.objects.filter(username__in=["alice", "bob", "sam"])}
    for slug, (subject, claims) in BINDINGS.items():
        agent = Agent.objects.get(slug=slug)
        if agent.identity_bindings.filter(provider=provider, subject=subject).exists():
            continue
        binding = IdentityBinding.objects.create(
            agent=agent,
            provider=provider,
            subject=subject,
            claims=claims,
            requested_by=agent.owner,
            required_approvals=required_approvals_for(agent),
            status=BindingStatus.ACTIVE,
            activated_at=timezone.now(),
        )
        if binding.required_approvals:
            BindingApproval.objects.create(
                binding=binding, approver=users["sam"], comment="Pipeline reviewed (demo)."
            )
