"""Signing in through a real OpenID provider (tests/idp), end to end over HTTP: the portal
sends the browser to the provider, the person logs in there, and comes back signed in with
the roles and teams their IdP groups give."""

import re
from urllib.parse import urljoin

import pytest
import requests
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.core.cache import cache

from directory.models import DirectoryAccount
from kernel.permissions import roles_of
from registry.models import Team

pytestmark = pytest.mark.django_db(transaction=True)

ROLE_GROUPS = ["security=gov-security", "auditor=gov-auditors", "engineer=gov-engineers"]


@pytest.fixture
def idp(start_oidc_provider, live_server, settings):
    provider = start_oidc_provider(
        redirect_base=live_server.url,
        post_logout_redirect_uris=[f"{live_server.url}/accounts/login/"],
        logout_prompt=False,
    )
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_PROVIDER_NAME = "Test IdP"
    settings.OIDC_RP_CLIENT_ID = provider.client_id
    settings.OIDC_RP_CLIENT_SECRET = provider.client_secret
    settings.OIDC_ROLE_GROUPS = ROLE_GROUPS
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "directory.oidc.PortalOIDCBackend",
    ]
    cache.clear()
    return provider


def sign_in(portal: str, browser: requests.Session, login: str, password: str):
    """Click "Sign in with", log in at the provider, follow the way back to the portal."""
    page = browser.get(f"{portal}/oidc/authenticate/", timeout=10)
    form = re.search(r'<form id="login-form" method="post" action="([^"]+)"', page.text)
    if form is None:  # the provider remembered the session: straight back
        return page
    return browser.post(
        urljoin(page.url, form.group(1)), data={"login": login, "password": password}, timeout=10
    )


def confirm_provider_logout(browser: requests.Session, page: requests.Response):
    """What the provider's "Yes, sign me out" button does (a browser clicks it)."""
    form = re.search(r'<form[^>]*id="op.logoutForm"[^>]*>(.*?)</form>', page.text, re.S)
    action = re.search(r'action="([^"]+)"', form.group(0)).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(1)))
    return browser.post(urljoin(page.url, action), data={**fields, "logout": "yes"}, timeout=10)


def test_a_security_member_signs_in_and_lands_on_the_dashboard(idp, live_server):
    browser = requests.Session()
    page = sign_in(live_server.url, browser, "sara", "sara-pw")
    assert page.url == f"{live_server.url}/"
    assert "Approvals" in page.text  # security's navigation
    sara = User.objects.get(username="sara")
    assert sara.email == "sara@example.test"
    assert roles_of(sara) == {"security"}
    assert DirectoryAccount.objects.get(user=sara).oidc_subject == "sara"
    sources = {
        (entry.additional_data or {}).get("source")
        for entry in LogEntry.objects.filter(object_pk=str(sara.pk), content_type__model="user")
    }
    assert "IdP (OpenID Connect)" in sources


def test_groups_changed_at_the_provider_change_the_role_at_the_next_sign_in(idp, live_server):
    browser = requests.Session()
    sign_in(live_server.url, browser, "sara", "sara-pw")
    assert roles_of(User.objects.get(username="sara")) == {"security"}
    idp.set_groups("sara", ["gov-auditors"])
    browser.post(
        f"{live_server.url}/accounts/logout/",
        headers={
            "X-CSRFToken": browser.cookies.get("csrftoken", ""),
            "Referer": f"{live_server.url}/",
        },
        timeout=10,
    )
    page = sign_in(live_server.url, requests.Session(), "sara", "sara-pw")
    assert page.url == f"{live_server.url}/"
    assert roles_of(User.objects.get(username="sara")) == {"auditor"}


def test_an_engineer_joins_their_team_and_a_person_without_mapped_groups_has_no_role(
    idp, live_server
):
    sign_in(live_server.url, requests.Session(), "eve", "eve-pw")
    eve = User.objects.get(username="eve")
    assert roles_of(eve) == {"engineer"}
    assert Team.objects.get(slug="payments").members.filter(pk=eve.pk).exists()
    idp.set_account(
        "nina",
        preferred_username="nina",
        email="nina@example.test",
        groups=["marketing"],
        password="nina-pw",
    )
    page = sign_in(live_server.url, requests.Session(), "nina", "nina-pw")
    assert page.url == f"{live_server.url}/accounts/no-role/"
    assert "have no role here yet" in page.text
    assert "marketing" in page.text


def test_a_replayed_callback_is_refused(idp, live_server):
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/oidc/authenticate/", timeout=10)
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    back = browser.post(
        urljoin(page.url, action),
        data={"login": "sara", "password": "sara-pw"},
        allow_redirects=False,
        timeout=10,
    )
    while not back.headers["Location"].startswith(live_server.url):
        back = browser.get(urljoin(back.url, back.headers["Location"]), allow_redirects=False)
    callback = back.headers["Location"]
    assert browser.get(callback, timeout=10).url == f"{live_server.url}/"
    # The same code, state and nonce again, from another browser: refused.
    replay = requests.Session().get(callback, timeout=10)
    assert "Sign-in was refused" in replay.text or replay.url.endswith("/accounts/login/")
    assert "Approvals" not in replay.text


def test_logout_ends_the_provider_session_too(idp, live_server):
    browser = requests.Session()
    sign_in(live_server.url, browser, "sara", "sara-pw")
    out = browser.post(
        f"{live_server.url}/accounts/logout/",
        headers={
            "X-CSRFToken": browser.cookies.get("csrftoken", ""),
            "Referer": f"{live_server.url}/",
        },
        timeout=10,
    )
    assert out.url.startswith(f"{idp.issuer}/session/end")  # RP-initiated logout
    assert "id_token_hint=" in out.url
    out = confirm_provider_logout(browser, out)
    assert out.url.startswith(f"{live_server.url}/accounts/login/")
    # The provider forgot the session: the next sign-in asks for the password again.
    page = browser.get(f"{live_server.url}/oidc/authenticate/", timeout=10)
    assert 'id="login-form"' in page.text


def test_a_deactivated_person_cannot_sign_in_again(idp, live_server):
    sign_in(live_server.url, requests.Session(), "sara", "sara-pw")
    User.objects.filter(username="sara").update(is_active=False)
    page = sign_in(live_server.url, requests.Session(), "sara", "sara-pw")
    assert "Sign-in was refused" in page.text
    assert "deactivated" in page.text
