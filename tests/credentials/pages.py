"""Rows and form data for the trust pages' tests: a provider with its keys inline (no JWKS
server needed), signing keys and issued credentials made directly with the ORM."""

import json
import uuid
from datetime import timedelta

from django.utils import timezone

from credentials.models import (
    BindingStatus,
    IdentityBinding,
    IssuedCredential,
    SigningKey,
    TrustProvider,
)
from tests.credentials.workload import Platform
from tests.registry.factories import AgentFactory, TeamFactory

ROLES = [
    "engineer",
    "other_engineer",
    "security",
    "second_security",
    "auditor",
    "gateway",
    "anonymous",
]


def by_role(engineer, other_engineer, security, second_security, auditor, gateway) -> dict:
    return {
        "engineer": engineer,
        "other_engineer": other_engineer,
        "security": security,
        "second_security": second_security,
        "auditor": auditor,
        "gateway": gateway,
        "anonymous": None,
    }


def make_agents(engineer, other_engineer) -> dict:
    """eve owns pay-bot (production) and play-bot (sandbox) in team payments; oscar owns
    other-bot in another team."""
    team = TeamFactory(slug="payments", members=[engineer])
    return {
        "pay": AgentFactory(slug="pay-bot", owner=engineer, team=team, tier="production"),
        "sandbox": AgentFactory(slug="play-bot", owner=engineer, team=team, tier="sandbox"),
        "other": AgentFactory(
            slug="other-bot", owner=other_engineer, team=TeamFactory(slug="platform")
        ),
    }


def login(client, user):
    if user is not None:
        client.force_login(user)
    return client


def inline_jwks() -> dict:
    return {"keys": [Platform().jwk]}


def provider_data(**overrides) -> dict:
    """What the "Add a trust provider" form posts."""
    return {
        "slug": "gha",
        "name": "GitHub Actions",
        "issuer": "https://token.actions.githubusercontent.com",
        "jwks_uri": "",
        "jwks": json.dumps(inline_jwks()),
        "audience": "https://portal.example",
        "algorithms": ["ES256", "RS256"],
        "max_token_age_seconds": "600",
        **overrides,
    }


def make_provider(slug: str = "gha", **fields) -> TrustProvider:
    return TrustProvider.objects.create(
        slug=slug,
        name=fields.pop("name", slug.upper()),
        issuer=fields.pop("issuer", f"https://{slug}.example"),
        jwks=fields.pop("jwks", inline_jwks()),
        audience=fields.pop("audience", "https://portal.example"),
        **fields,
    )


def make_binding(agent, provider, subject="repo:acme/app:ref:refs/heads/main", **fields):
    status = fields.pop("status", BindingStatus.ACTIVE)
    return IdentityBinding.objects.create(
        agent=agent,
        provider=provider,
        subject=subject,
        claims=fields.pop("claims", {}),
        requested_by=fields.pop("requested_by", agent.owner),
        required_approvals=fields.pop("required_approvals", 0),
        status=status,
        activated_at=timezone.now() if status == BindingStatus.ACTIVE else None,
        **fields,
    )


def make_signing_key(kid: str = "k1", *, age_days: int = 1, **fields) -> SigningKey:
    return SigningKey.objects.create(
        kid=kid,
        algorithm="ES256",
        public_jwk={"kty": "EC", "kid": kid},
        private_key="not-a-real-key",
        created_at=timezone.now() - timedelta(days=age_days),
        **fields,
    )


def make_credential(binding, key, capabilities=("github:read",), **fields) -> IssuedCredential:
    issued = fields.pop("issued_at", timezone.now() - timedelta(minutes=1))
    return IssuedCredential.objects.create(
        jti=fields.pop("jti", uuid.uuid4().hex),
        agent=binding.agent,
        capabilities=list(capabilities),
        capability_keys=f" {' '.join(capabilities)} ",
        provider=binding.provider,
        binding=binding,
        subject=binding.subject,
        signing_key=key,
        issued_at=issued,
        expires_at=fields.pop("expires_at", issued + timedelta(minutes=15)),
        agent_status=binding.agent.status,
        **fields,
    )
