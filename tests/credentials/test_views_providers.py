"""The trust providers page: security adds, edits and deletes providers through the forms
(refusals shown on the form, nothing written); everyone reads the list; security and auditors
also see the signing keys and refused exchanges."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from credentials.models import RefusedExchange, TrustProvider
from tests.credentials.pages import (
    login,
    make_agents,
    make_binding,
    make_provider,
    make_signing_key,
    provider_data,
)

pytestmark = pytest.mark.django_db


def test_security_adds_a_provider_from_the_trust_page(client, security):
    login(client, security)
    page = client.get("/trust/").content.decode()
    assert "Add a trust provider" in page
    assert 'value="ES256"' in page
    assert 'value="HS256"' not in page
    assert "null</textarea>" not in page  # an empty JWKS field shows empty

    done = client.post("/trust/providers/new/", provider_data(), follow=True)
    assert done.redirect_chain[-1][0] == "/trust/"
    html = done.content.decode()
    assert "Trust provider gha added." in html
    assert 'data-provider="gha"' in html
    assert "inline JWKS (1 key)" in html
    provider = TrustProvider.objects.get()
    assert provider.algorithms == ["ES256", "RS256"]
    assert provider.max_token_age_seconds == 600
    assert provider.jwks_uri == ""


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"algorithms": ["HS256"]}, "Select a valid choice. HS256 is not one of"),
        ({"algorithms": []}, "This field is required."),
        (
            {"jwks_uri": "https://keys.example/jwks"},
            "Give the provider&#x27;s keys one way: a jwks_uri or an inline jwks.",
        ),
        ({"jwks": ""}, "Give the provider&#x27;s keys one way"),
        ({"jwks_uri": "ftp://keys.example/jwks", "jwks": ""}, "jwks_uri: an https address"),
        # Keys over plain http from another host could be swapped on the way.
        ({"jwks_uri": "http://keys.example/jwks", "jwks": ""}, "could be swapped on the way"),
        ({"jwks_uri": "not a url", "jwks": ""}, "Enter a valid URL."),
        ({"jwks": "{not json"}, "Enter a valid JSON."),
        ({"jwks": "[1, 2]"}, "A JSON object"),
        ({"jwks": json.dumps({"keys": [{"kty": "EC", "crv": "P-256"}]})}, "usable public key"),
        ({"max_token_age_seconds": "5"}, "Give a number of seconds between 60 and 86400."),
        ({"max_token_age_seconds": "90000"}, "Give a number of seconds between 60 and 86400."),
        ({"slug": "not a slug"}, "Enter a valid “slug”"),
        ({"issuer": ""}, "This field is required."),
    ],
)
def test_a_bad_provider_is_shown_on_the_form_and_nothing_is_created(
    client, security, overrides, message
):
    response = login(client, security).post("/trust/providers/new/", provider_data(**overrides))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not TrustProvider.objects.exists()


def test_a_duplicate_slug_is_refused_on_the_slug_field(client, security):
    make_provider("gha")
    response = login(client, security).post("/trust/providers/new/", provider_data())
    assert response.status_code == 400
    assert response.context["form"].errors["slug"] == ["A trust provider 'gha' exists already."]
    assert TrustProvider.objects.count() == 1


def test_a_provider_with_the_issuer_and_audience_of_another_is_refused_on_the_form(
    client, security
):
    make_provider("gha-old", issuer="https://token.actions.githubusercontent.com")
    response = login(client, security).post("/trust/providers/new/", provider_data())
    assert response.status_code == 400
    assert response.context["form"].errors["issuer"] == [
        "Trust provider 'gha-old' already has this issuer and audience: tokens with them are "
        "verified by it. Change that provider, or give this one another audience."
    ]
    assert TrustProvider.objects.count() == 1
    make_provider("gha")
    edited = client.post(
        "/trust/providers/gha/edit/",
        provider_data(issuer="https://token.actions.githubusercontent.com"),
    )
    assert edited.status_code == 400
    assert "already has this issuer and audience" in str(edited.context["form"].errors["issuer"])
    assert TrustProvider.objects.get(slug="gha").issuer == "https://gha.example"


def test_security_edits_a_provider_but_not_its_slug(client, security):
    provider = make_provider("gha", algorithms=["ES256"])
    login(client, security)
    page = client.get("/trust/providers/gha/edit/")
    assert "slug" not in page.context["form"].fields
    assert page.context["form"]["issuer"].value() == "https://gha.example"
    data = provider_data(
        slug="renamed",
        name="GitHub (prod)",
        jwks="",
        jwks_uri="https://token.example/.well-known/jwks",
        algorithms=["RS256", "EdDSA"],
    )
    done = client.post("/trust/providers/gha/edit/", data, follow=True)
    assert "Trust provider gha updated." in done.content.decode()
    provider.refresh_from_db()
    assert provider.slug == "gha"
    assert provider.name == "GitHub (prod)"
    assert provider.algorithms == ["RS256", "EdDSA"]
    assert provider.jwks_uri == "https://token.example/.well-known/jwks"
    assert provider.jwks is None

    refused = client.post("/trust/providers/gha/edit/", {**data, "algorithms": ["none"]})
    assert refused.status_code == 400
    assert "Select a valid choice" in refused.content.decode()
    provider.refresh_from_db()
    assert provider.algorithms == ["RS256", "EdDSA"]


def test_deleting_asks_for_the_slug_then_deletes(client, security):
    make_provider("gha")
    login(client, security)
    confirm = client.get("/trust/providers/gha/delete/").content.decode()
    assert "Delete trust provider gha?" in confirm
    assert "Type the provider&#x27;s slug to confirm" in confirm

    wrong = client.post("/trust/providers/gha/delete/", {"confirm": "gh"})
    assert wrong.status_code == 400
    assert "Type &#x27;gha&#x27; exactly" in wrong.content.decode()
    assert TrustProvider.objects.filter(slug="gha").exists()

    done = client.post("/trust/providers/gha/delete/", {"confirm": "gha"}, follow=True)
    assert done.redirect_chain[-1][0] == "/trust/"
    assert "Trust provider gha deleted." in done.content.decode()
    assert not TrustProvider.objects.exists()


def test_a_provider_in_use_stays_and_the_page_says_why(client, security, engineer, other_engineer):
    agents = make_agents(engineer, other_engineer)
    make_binding(agents["pay"], make_provider("gha"))
    response = login(client, security).post("/trust/providers/gha/delete/", {"confirm": "gha"})
    assert response.status_code == 400
    assert "has bindings or issued credentials" in response.content.decode()
    assert TrustProvider.objects.filter(slug="gha").exists()


def test_engineers_read_the_list_without_forms_keys_or_refusals(client, engineer, other_engineer):
    agents = make_agents(engineer, other_engineer)
    make_binding(agents["pay"], make_provider("gha", jwks=None, jwks_uri="https://k.example/j"))
    make_signing_key()
    login(client, engineer)
    html = client.get("/trust/").content.decode()
    assert 'data-provider="gha"' in html
    assert "https://k.example/j" in html
    assert "<td>1</td>" in html  # one live binding
    for hidden in ("Add a trust provider", "/trust/providers/gha/edit/", 'id="signing-keys"'):
        assert hidden not in html
    assert 'id="refused"' not in html
    nav = [entry["label"] for entry in client.get("/").context["nav_entries"]]
    assert "Trust" not in nav


def test_security_sees_trust_in_the_navigation(client, security):
    nav = [entry["label"] for entry in login(client, security).get("/").context["nav_entries"]]
    assert nav[nav.index("Review") + 1] == "Trust"


@pytest.mark.parametrize("role", ["security", "auditor"])
def test_keys_and_refused_exchanges_for_security_and_auditors(client, role_users, role, settings):
    settings.SIGNING_KEY_MAX_AGE_DAYS = 90
    now = timezone.now()
    make_signing_key(
        "old-1",
        age_days=200,
        retired_at=now - timedelta(days=100),
        publish_until=now - timedelta(days=99),
    )
    make_signing_key(
        "old-2",
        age_days=100,
        retired_at=now - timedelta(minutes=5),
        publish_until=now + timedelta(minutes=10),
    )
    make_signing_key("current", age_days=95)
    RefusedExchange.objects.create(
        provider=make_provider("gha"),
        subject="repo:fork/payments-api:pull_request",
        error="invalid_grant",
        description="The subject is bound to no agent.",
        at=now,
    )
    html = login(client, role_users[role]).get("/trust/").content.decode()
    assert ("Add a trust provider" in html) is (role == "security")
    current = html[html.index('data-kid="current"') :]
    assert "95 days" in current
    assert (
        "older than 90 days: run <code>manage.py rotate_signing_key --as &lt;you&gt;</code>"
        in current
    )
    assert '<span class="badge ok">active</span>' in current
    old_2 = html[html.index('data-kid="old-2"') : html.index('data-kid="old-1"')]
    assert "retired, published until" in old_2
    assert "key-too-old" not in old_2  # only the active key needs rotating
    refused = html[html.index('id="refused"') :]
    assert "repo:fork/payments-api:pull_request" in refused
    assert "The subject is bound to no agent." in refused


def test_the_providers_page_queries_do_not_grow_with_rows(
    client, security, engineer, other_engineer, django_assert_num_queries
):
    agents = make_agents(engineer, other_engineer)
    make_binding(agents["pay"], make_provider("p0"))
    make_signing_key("k0")
    login(client, security)
    client.get("/trust/")  # the session and roles, read once

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get("/trust/").status_code == 200
        return len(queries)

    few = count()
    for n in range(1, 6):
        provider = make_provider(f"p{n}")
        make_binding(agents["sandbox"], provider, subject=f"s{n}")
        make_signing_key(
            f"k{n}",
            age_days=n + 1,
            retired_at=timezone.now(),
            publish_until=timezone.now() + timedelta(minutes=n),
        )
        RefusedExchange.objects.create(
            provider=provider, subject=f"s{n}", error="e", description="d", at=timezone.now()
        )
    with django_assert_num_queries(few):
        assert client.get("/trust/").status_code == 200


def test_the_provider_and_binding_forms_explain_claims_without_backticks(
    client, security, engineer
):
    client.force_login(security)
    trust = client.get("/trust/").content.decode()
    assert "the exact issuer of its tokens (their iss claim)" in trust
    assert "the audience its tokens must carry (their aud claim)" in trust
    assert "`" not in trust
