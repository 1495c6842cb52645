"""Fixtures of a workload platform trusted by the portal, and an agent bound to it."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT, JwksServer, Platform
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

TOKEN_URL = "/oauth/token/"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TYPE = "urn:ietf:params:oauth:token-type:jwt"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def platform():
    return Platform()


@pytest.fixture
def jwks_server(platform):
    server = JwksServer()
    server.document = {"keys": [platform.jwk]}
    yield server
    server.stop()


@pytest.fixture
def provider(db, jwks_server, platform):
    return TrustProvider.objects.create(
        slug="github-actions",
        name="GitHub Actions",
        issuer=platform.issuer,
        jwks_uri=jwks_server.url,
        audience=platform.audience,
    )


@pytest.fixture
def world(db, engineer, security, provider):
    """payments-fixer (production) and sandbox-bot, each bound to a pipeline, under the demo
    policy (github:read is a standing allow in sandbox, jit in production)."""
    team = TeamFactory(slug="payments", members=[engineer])
    policy = demo_policy(security)
    fixer = AgentFactory(slug="payments-fixer", owner=engineer, team=team, tier="production")
    sandbox = AgentFactory(slug="sandbox-bot", owner=engineer, team=team, tier="sandbox")
    bindings = {
        "fixer": bind(fixer, provider, GITHUB_SUBJECT, GITHUB_CLAIMS),
        "sandbox": bind(sandbox, provider, "repo:acme/sandbox:ref:refs/heads/main", {}),
    }
    return {"policy": policy, "fixer": fixer, "sandbox": sandbox, "bindings": bindings}


def bind(agent, provider, subject, claims, status=BindingStatus.ACTIVE):
    return IdentityBinding.objects.create(
        agent=agent,
        provider=provider,
        subject=subject,
        claims=claims,
        requested_by=agent.owner,
        required_approvals=0,
        status=status,
        activated_at=timezone.now() - timedelta(minutes=5),
    )


def form_post(client, url, form, **headers):
    """POST form-encoded, as OAuth clients (and curl -d) do."""
    return client.post(url, urlencode(form, doseq=True), content_type=FORM, **headers)


def exchange(client, subject_token, scope, **extra):
    form = {
        "grant_type": GRANT_TYPE,
        "subject_token": subject_token,
        "subject_token_type": JWT_TYPE,
        "scope": scope,
        **extra,
    }
    return form_post(client, TOKEN_URL, form)
