"""The credentials API per role: trust providers, identity bindings (with the security
approval on production agents), and the list of issued credentials."""

import pytest
from auditlog.models import LogEntry

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.credentials.conftest import exchange
from tests.credentials.workload import GITHUB_CLAIMS, GITHUB_SUBJECT
from tests.decisions.fixtures import make_grant
from tests.registry.factories import AgentFactory, TeamFactory

pytestmark = pytest.mark.django_db

PROVIDERS = "/api/v1/trust-providers/"


def provider_body(platform, **overrides):
    return {
        "slug": "k8s-prod",
        "name": "Kubernetes (prod cluster)",
        "issuer": "https://kubernetes.default.svc",
        "jwks": {"keys": [platform.jwk]},
        "audience": "agent-governance-portal",
        **overrides,
    }


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("security", 200, 201),
        ("engineer", 200, 403),
        ("auditor", 200, 403),
        ("gateway", 200, 403),
        ("norole", 403, 403),
    ],
)
def test_everyone_reads_trust_providers_and_security_manages_them(
    api, role_users, platform, provider, role, read, write
):
    client = api.as_user(role_users[role])
    assert client.get(PROVIDERS).status_code == read
    response = client.post(PROVIDERS, provider_body(platform), format="json")
    assert response.status_code == write
    if write == 403:
        assert (
            response.json()["detail"] == "Only security manages trust providers and signing keys."
        )
        assert not TrustProvider.objects.filter(slug="k8s-prod").exists()


def test_security_creates_changes_and_deletes_a_provider(api, security, platform, db):
    client = api.as_user(security)
    created = client.post(PROVIDERS, provider_body(platform), format="json")
    assert created.status_code == 201, created.content
    assert created.json()["algorithms"] == ["RS256", "ES256", "EdDSA"]
    changed = client.patch(f"{PROVIDERS}k8s-prod/", {"max_token_age_seconds": 600}, format="json")
    assert changed.status_code == 200
    assert changed.json()["max_token_age_seconds"] == 600
    assert client.delete(f"{PROVIDERS}k8s-prod/").status_code == 204
    assert client.get(f"{PROVIDERS}k8s-prod/").status_code == 404


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"algorithms": ["HS256"]}, "never 'none' or HMAC"),
        ({"algorithms": ["none"]}, "never 'none' or HMAC"),
        ({"jwks": None}, "a jwks_uri or an inline jwks"),
        ({"jwks_uri": "https://k8s.example/jwks"}, "a jwks_uri or an inline jwks"),
        ({"jwks": None, "jwks_uri": "http://k8s.example/jwks"}, "plain http only on this machine"),
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "usable public key"),
        ({"jwks": {"keys": []}}, "usable public key"),
        ({"max_token_age_seconds": 10}, "max_token_age_seconds"),
        ({"surprise": 1}, "Unknown field 'surprise'"),
    ],
)
def test_a_bad_provider_is_a_400_that_says_why_and_creates_nothing(
    api, security, platform, overrides, says
):
    response = api.as_user(security).post(
        PROVIDERS, provider_body(platform, **overrides), format="json"
    )
    assert response.status_code == 400
    assert says in str(response.json())
    assert not TrustProvider.objects.filter(slug="k8s-prod").exists()


def test_a_second_provider_with_the_same_issuer_and_audience_is_refused(
    api, security, platform, provider
):
    """The verifier picks the first provider of a token's issuer and audience: a twin could
    never be used, so it is refused on create and on update, naming the provider that has them."""
    client = api.as_user(security)
    twin = provider_body(platform, issuer=provider.issuer, audience=provider.audience)
    response = client.post(PROVIDERS, twin, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith(
        "Trust provider 'github-actions' already has this issuer and audience"
    )
    assert not TrustProvider.objects.filter(slug="k8s-prod").exists()

    assert client.post(PROVIDERS, provider_body(platform), format="json").status_code == 201
    moved = client.patch(
        f"{PROVIDERS}k8s-prod/",
        {"issuer": provider.issuer, "audience": provider.audience},
        format="json",
    )
    assert moved.status_code == 400
    assert "'github-actions' already has this issuer and audience" in moved.json()["detail"]
    assert TrustProvider.objects.get(slug="k8s-prod").issuer == "https://kubernetes.default.svc"
    # The same issuer with another audience is another provider; a provider keeps its own.
    other = client.patch(f"{PROVIDERS}k8s-prod/", {"issuer": provider.issuer}, format="json")
    assert other.status_code == 200, other.content
    itself = client.patch(f"{PROVIDERS}github-actions/", {"name": "GHA"}, format="json")
    assert itself.status_code == 200, itself.content


def test_the_database_refuses_twin_providers_too(provider):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        TrustProvider.objects.create(
            slug="twin", name="Twin", issuer=provider.issuer, audience=provider.audience
        )


def test_a_provider_in_use_cannot_be_deleted(api, security, world, provider):
    response = api.as_user(security).delete(f"{PROVIDERS}{provider.slug}/")
    assert response.status_code == 400
    assert "remove its bindings first" in response.json()["detail"]


def identities(agent):
    return f"/api/v1/agents/{agent.slug}/identities/"


def test_the_owner_binds_a_production_agent_and_security_approves(
    api, world, provider, engineer, security, second_security
):
    fixer = world["fixer"]
    body = {
        "provider": provider.slug,
        "subject": "repo:acme/payments-api:environment:staging",
        "claims": {"repository": "acme/payments-api", "ref": "refs/heads/*"},
    }
    created = api.as_user(engineer).post(identities(fixer), body, format="json")
    assert created.status_code == 201, created.content
    binding = created.json()
    assert binding["status"] == "pending"
    assert binding["required_approvals"] == 1
    url = f"{identities(fixer)}{binding['id']}/approve/"
    # The owner may not approve (separation of duties), nor may an engineer at all.
    assert api.as_user(engineer).post(url, {}, format="json").status_code == 403
    approved = api.as_user(security).post(url, {"comment": "pipeline reviewed"}, format="json")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "active"
    assert approved.json()["approvals"] == ["sec1"]
    again = api.as_user(second_security).post(url, {}, format="json")
    assert again.status_code == 400  # active already
    listed = api.as_user(engineer).get(identities(fixer)).json()
    assert {b["subject"] for b in listed} == {GITHUB_SUBJECT, body["subject"]}


def test_a_sandbox_binding_is_active_at_once_and_security_rejects_with_a_reason(
    api, world, provider, engineer, security
):
    body = {"provider": provider.slug, "subject": "repo:acme/sandbox:ref:refs/heads/dev"}
    created = api.as_user(engineer).post(identities(world["sandbox"]), body, format="json")
    assert created.json()["status"] == "active"
    pending = (
        api.as_user(engineer)
        .post(identities(world["fixer"]), {**body, "subject": "other"}, format="json")
        .json()
    )
    url = f"{identities(world['fixer'])}{pending['id']}/reject/"
    assert api.as_user(security).post(url, {}, format="json").status_code == 400
    invisible = api.as_user(security).post(url, {"comment": "\u200b"}, format="json")
    assert invisible.status_code == 400
    assert invisible.json()["detail"] == "Say why the binding is rejected (comment)."
    rejected = api.as_user(security).post(url, {"comment": "unknown pipeline"}, format="json")
    assert rejected.json()["status"] == "rejected"


@pytest.mark.parametrize(
    ("role", "status"),
    [("other_engineer", 403), ("auditor", 403), ("gateway", 403), ("security", 201)],
)
def test_only_the_agents_people_and_security_bind(api, world, provider, request, role, status):
    user = request.getfixturevalue(role)
    body = {"provider": provider.slug, "subject": f"sub-{role}"}
    response = api.as_user(user).post(identities(world["sandbox"]), body, format="json")
    assert response.status_code == status
    assert IdentityBinding.objects.filter(subject=f"sub-{role}").exists() == (status == 201)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"provider": "nope", "subject": "x"}, "No trust provider 'nope'"),
        ({"provider": "github-actions", "subject": ""}, "subject"),
        (
            {"provider": "github-actions", "subject": "x", "claims": {"sub": "y"}},
            "checked by the portal",
        ),
        ({"provider": "github-actions", "subject": "x", "claims": ["a"]}, "claims"),
        (
            {"provider": "github-actions", "subject": "x", "claims": {" ": "main"}},
            "each claim's name is 1 to 100 characters.",
        ),
        (
            {"provider": "github-actions", "subject": GITHUB_SUBJECT, "claims": GITHUB_CLAIMS},
            "already binds",
        ),
    ],
)
def test_a_bad_binding_is_a_400(api, world, engineer, body, says):
    response = api.as_user(engineer).post(identities(world["fixer"]), body, format="json")
    assert response.status_code == 400
    assert says in str(response.json())


@pytest.fixture
def ci_bot(other_engineer):
    """An internal agent of another team, whose bindings are active when added."""
    team = TeamFactory(slug="platform", members=[other_engineer])
    return AgentFactory(slug="ci-bot", owner=other_engineer, team=team, tier="internal")


def test_another_team_cannot_bind_a_subject_that_would_break_an_agents_exchange(
    api, client, world, provider, platform, other_engineer, ci_bot
):
    """A binding without claims for payments-fixer's subject would match its tokens too:
    every exchange of payments-fixer would then be refused as ambiguous."""
    body = {"provider": provider.slug, "subject": GITHUB_SUBJECT}
    refused = api.as_user(other_engineer).post(identities(ci_bot), body, format="json")
    assert refused.status_code == 400
    binding = world["bindings"]["fixer"]
    assert refused.json()["detail"].startswith(
        f"A token could match both this binding and binding #{binding.pk} of agent 'payments-fixer'"
    )
    assert not ci_bot.identity_bindings.exists()
    make_grant(world["fixer"], "github:read", hours=1)
    token = platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS)
    assert exchange(client, token, "github:read").status_code == 200


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({}, 400),  # no constraint: matches every token of the subject
        ({"ref": "refs/heads/*"}, 400),  # refs/heads/main is one of them
        ({"ref": "refs/heads/main", "actor": "ci"}, 400),  # a token may carry both
        ({"environment": "prod*"}, 400),
        ({"ref": "refs/heads/release/*"}, 201),  # never refs/heads/main
        ({"ref": "refs/tags/*", "repository": "acme/*"}, 201),
        ({"repository": "acme/payments-api-mirror"}, 201),
        ({"environment": "[!p]*"}, 201),
    ],
)
def test_only_bindings_that_no_token_could_share_with_another_agent_are_added(
    api, world, provider, other_engineer, ci_bot, claims, status
):
    body = {"provider": provider.slug, "subject": GITHUB_SUBJECT, "claims": claims}
    response = api.as_user(other_engineer).post(identities(ci_bot), body, format="json")
    assert response.status_code == status, response.content
    if status == 201:
        assert response.json()["status"] == "active"
    else:
        assert "of agent 'payments-fixer'" in response.json()["detail"]


def test_a_pending_binding_of_another_agent_counts_and_a_removed_one_does_not(
    api, world, provider, engineer, other_engineer, ci_bot
):
    binding = world["bindings"]["fixer"]
    binding.status = BindingStatus.PENDING
    binding.save()
    body = {"provider": provider.slug, "subject": GITHUB_SUBJECT}
    assert api.as_user(other_engineer).post(identities(ci_bot), body).status_code == 400
    removed = api.as_user(engineer).delete(f"{identities(world['fixer'])}{binding.pk}/")
    assert removed.status_code == 204
    added = api.as_user(other_engineer).post(identities(ci_bot), body, format="json")
    assert added.status_code == 201, added.content


def test_an_agent_may_hold_overlapping_bindings_of_its_own(api, world, provider, engineer):
    body = {"provider": provider.slug, "subject": GITHUB_SUBJECT, "claims": {"ref": "refs/*"}}
    response = api.as_user(engineer).post(identities(world["fixer"]), body, format="json")
    assert response.status_code == 201, response.content


def test_moving_an_agent_to_production_puts_its_bindings_back_to_security(
    api, client, world, provider, platform, engineer, security, second_security
):
    """Bindings added while the agent was sandbox took effect unapproved; on production they
    wait for a security approval again, and exchanges through them are refused meanwhile."""
    sandbox = world["sandbox"]
    body = {"provider": provider.slug, "subject": "repo:acme/sandbox:ref:refs/heads/dev"}
    added = api.as_user(engineer).post(identities(sandbox), body, format="json").json()
    assert added["status"] == "active"
    token = platform.token("repo:acme/sandbox:ref:refs/heads/main")
    assert exchange(client, token, "github:read").status_code == 200

    moved = api.as_user(security).patch(
        f"/api/v1/agents/{sandbox.slug}/", {"tier": "production"}, format="json"
    )
    assert moved.status_code == 200, moved.content
    listed = {b["id"]: b for b in api.as_user(engineer).get(identities(sandbox)).json()}
    assert {(b["status"], b["required_approvals"]) for b in listed.values()} == {("pending", 1)}
    refused = exchange(client, token, "github:read")
    assert refused.status_code == 400
    assert "awaits security approval" in refused.json()["error_description"]
    binding = world["bindings"]["sandbox"]
    entry = LogEntry.objects.get_for_object(binding).filter(actor=security).get()
    assert entry.changes_dict["status"] == ["active", "pending"]

    url = f"{identities(sandbox)}{binding.pk}/approve/"
    assert api.as_user(engineer).post(url, {}, format="json").status_code == 403
    approved = api.as_user(second_security).post(url, {}, format="json")
    assert approved.json()["status"] == "active"
    make_grant(sandbox, "github:read", hours=1)  # a jit capability on production
    assert exchange(client, token, "github:read").status_code == 200
    # Approved once, it stays active through another round trip of tiers.
    for tier in ("sandbox", "production"):
        api.as_user(security).patch(f"/api/v1/agents/{sandbox.slug}/", {"tier": tier})
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE


def test_another_change_to_a_production_agent_leaves_its_bindings_alone(api, world, security):
    binding = world["bindings"]["fixer"]  # active, unapproved (made so by the fixture)
    changed = api.as_user(security).patch(
        f"/api/v1/agents/{world['fixer'].slug}/", {"description": "fixes payments"}
    )
    assert changed.status_code == 200
    binding.refresh_from_db()
    assert binding.status == BindingStatus.ACTIVE


def test_removing_a_binding_stops_the_exchange(api, client, world, engineer, platform):
    binding = world["bindings"]["fixer"]
    response = api.as_user(engineer).delete(f"{identities(world['fixer'])}{binding.pk}/")
    assert response.status_code == 204
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REMOVED
    refused = exchange(client, platform.token(GITHUB_SUBJECT, **GITHUB_CLAIMS), "github:read")
    assert refused.json()["error"] == "invalid_grant"


def test_bindings_of_an_agent_are_hidden_from_engineers_of_other_teams(api, world, other_engineer):
    assert api.as_user(other_engineer).get(identities(world["fixer"])).status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [("security", 200), ("auditor", 200), ("engineer", 403), ("gateway", 403), ("norole", 403)],
)
def test_who_reads_issued_credentials(api, client, world, platform, role_users, role, status):
    exchange(client, platform.token("repo:acme/sandbox:ref:refs/heads/main"), "github:read")
    response = api.as_user(role_users[role]).get("/api/v1/credentials/")
    assert response.status_code == status
    if status == 200:
        (row,) = response.json()["results"]
        assert row["agent"] == "sandbox-bot"
        assert row["capabilities"] == ["github:read"]
        assert row["allowed_by"]["standing"] is True
        assert "access_token" not in row
        assert "token" not in str(row.keys())


def test_issued_credentials_filter_by_agent_capability_and_time(
    api, client, world, platform, auditor
):
    subject = "repo:acme/sandbox:ref:refs/heads/main"
    exchange(client, platform.token(subject), "github:read")
    exchange(client, platform.token(subject), "jira:write")
    listing = api.as_user(auditor)
    assert listing.get("/api/v1/credentials/?capability=jira:write").json()["count"] == 1
    assert listing.get("/api/v1/credentials/?agent=sandbox-bot").json()["count"] == 2
    assert listing.get("/api/v1/credentials/?agent=payments-fixer").json()["count"] == 0
    assert listing.get("/api/v1/credentials/?from=2999-01-01T00:00:00Z").json()["count"] == 0
    assert listing.get("/api/v1/credentials/?to=2000-01-01T00:00:00Z").json()["count"] == 0
    bad = listing.get("/api/v1/credentials/?from=yesterday")
    assert bad.status_code == 400
