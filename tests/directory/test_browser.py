"""In a real browser, through a real OpenID provider: sara clicks "Sign in with Test IdP",
logs in on the provider's page, lands on the dashboard as security, and signs out of both."""

import pytest
from django.core.cache import cache
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def idp(start_oidc_provider, live_server, settings):
    provider = start_oidc_provider(
        redirect_base=live_server.url,
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
    )
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_ROLE_GROUPS = ["security=gov-security", "engineer=gov-engineers"]
    settings.PASSWORD_LOGIN = False
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "directory.oidc.PortalOIDCBackend",
    ]
    cache.clear()
    return provider


def test_sara_signs_in_with_the_company_idp_and_out_again(live_server, page: Page, idp):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Sign in with Test IdP").click()

    page.locator("#login").fill("sara")
    page.locator("#password").fill("sara-pw")
    page.locator("#sign-in").click()

    expect(page.get_by_test_id("whoami")).to_have_text("sara")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Approvals")).to_be_visible()  # security, from gov-security
    expect(page).to_have_url(f"{live_server.url}/")

    page.get_by_role("button", name="Log out").click()
    page.locator("#logout-confirm").click()  # the provider asks, then sends us back
    expect(page).to_have_url(f"{live_server.url}/accounts/login/", timeout=10_000)
    expect(page.get_by_role("button", name="Sign in with Test IdP")).to_be_visible()
    # Password sign-in is off: only the administrators' break-glass form remains, folded.
    expect(page.get_by_text("Administrator break-glass sign-in (password)")).to_be_visible()
