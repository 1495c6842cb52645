"""The trust pages' forms, posted and refused (by the form or by the service): their own page
again with a 400, the refusal beside its field, what was typed kept, and nothing changed."""

import pytest

from credentials.models import BindingStatus, IdentityBinding, TrustProvider
from tests.credentials.pages import login, make_agents, make_binding, make_provider, provider_data

pytestmark = pytest.mark.django_db


def page_of(response) -> str:
    assert response.status_code == 400
    page = response.content.decode()
    assert 'role="alert"' in page
    assert "Back to the dashboard" not in page  # the form's own page, not the error page
    return page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"max_token_age_seconds": "5"}, "between 60 and 86400"),  # the form refuses it
        ({"slug": "old"}, "A trust provider &#x27;old&#x27; exists already."),  # the service
    ],
)
def test_a_refused_provider_is_a_400_on_its_form_with_what_was_typed(
    client, security, overrides, message
):
    make_provider("old", issuer="https://old.example")
    data = provider_data(name="GitHub (typed)", **overrides)
    page = page_of(login(client, security).post("/trust/providers/new/", data))
    assert message in page
    assert f'value="{data["slug"]}"' in page
    assert 'value="GitHub (typed)"' in page
    assert f'value="{data["max_token_age_seconds"]}"' in page
    assert list(TrustProvider.objects.values_list("slug", flat=True)) == ["old"]


def test_a_refused_provider_edit_is_a_400_on_its_form_with_what_was_typed(client, security):
    make_provider("gha", name="GitHub")
    data = provider_data(name="GitHub (renamed)", jwks_uri="not a url", jwks="")
    page = page_of(login(client, security).post("/trust/providers/gha/edit/", data))
    assert "Enter a valid URL." in page
    assert 'value="GitHub (renamed)"' in page
    assert 'value="not a url"' in page
    provider = TrustProvider.objects.get()
    assert (provider.name, provider.jwks_uri) == ("GitHub", "")


def test_a_refused_provider_delete_is_a_400_on_its_form_with_what_was_typed(client, security):
    make_provider("gha")
    page = page_of(login(client, security).post("/trust/providers/gha/delete/", {"confirm": "gh"}))
    assert "Type &#x27;gha&#x27; exactly" in page
    assert 'value="gh"' in page
    assert TrustProvider.objects.filter(slug="gha").exists()


def test_a_refused_binding_is_a_400_on_its_form_with_what_was_typed(
    client, engineer, other_engineer
):
    agents = make_agents(engineer, other_engineer)
    make_provider("gha")
    data = {"provider": "gha", "subject": "repo:acme/pay:ref:main", "claims": "ref=a\nref=b"}
    page = page_of(login(client, engineer).post("/agents/pay-bot/identities/add/", data))
    assert "line 2: &#x27;ref&#x27; is named twice." in page
    assert 'value="repo:acme/pay:ref:main"' in page
    assert "ref=a\nref=b</textarea>" in page
    assert not IdentityBinding.objects.filter(agent=agents["pay"]).exists()


def test_a_refused_binding_removal_is_a_400_on_its_confirmation_page(
    client, engineer, other_engineer, security
):
    agents = make_agents(engineer, other_engineer)
    binding = make_binding(agents["pay"], make_provider("gha"), status=BindingStatus.REMOVED)
    url = f"/agents/pay-bot/identities/{binding.pk}/remove/"
    page = page_of(login(client, engineer).post(url))
    assert f"Binding #{binding.pk} is already removed." in page
    assert f"Remove binding #{binding.pk} from pay-bot?" in page
    binding.refresh_from_db()
    assert (binding.status, binding.closed_by) == (BindingStatus.REMOVED, None)
