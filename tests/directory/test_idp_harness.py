"""The OpenID provider in tests/idp is a real one: discovery, the authorization-code flow with
PKCE, signed ID tokens carrying `groups`, userinfo, and accounts re-read between sign-ins."""

import base64
import hashlib
import json
import re
import secrets
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import jwt
import pytest

SCOPE = "openid email profile groups"


class _StopAt(urllib.request.HTTPRedirectHandler):
    """Follows redirects, except to the client's redirect_uri: that one is the answer."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if newurl.startswith(self.prefix):
            return None  # urllib raises HTTPError carrying the Location
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _browser(redirect_uri: str) -> urllib.request.OpenerDirector:
    cookies = urllib.request.HTTPCookieProcessor(CookieJar())
    return urllib.request.build_opener(cookies, _StopAt(redirect_uri))


def _get_json(url: str, **headers: str) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as r:  # noqa: S310
        return json.load(r)


def _redirected_to(browser, url: str, data: dict | None = None) -> str | None:
    """Opens `url`; the Location the provider sent back to the client, or None on a page."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    try:
        with browser.open(url, data=body) as response:
            browser.last_page = (response.geturl(), response.read().decode())
            return None
    except urllib.error.HTTPError as error:
        if error.code in (302, 303):
            return error.headers["Location"]
        raise


def _authorize(
    idp,
    browser,
    *,
    login: str = "sara",
    password: str = "sara-pw",  # noqa: S107
    challenge: bool = True,
) -> dict:
    """Runs the authorization request, signing in when the provider asks; the callback query."""
    config = _get_json(idp.discovery_url)
    verifier = secrets.token_urlsafe(48)
    params = {
        "client_id": idp.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": idp.redirect_uris[0],
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    if challenge:
        digest = hashlib.sha256(verifier.encode()).digest()
        params["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params["code_challenge_method"] = "S256"
    url = f"{config['authorization_endpoint']}?{urllib.parse.urlencode(params)}"
    location = _redirected_to(browser, url)
    if location is None:  # the login page
        page_url, html = browser.last_page
        action = re.search(r'<form id="login-form" method="post" action="([^"]+)"', html)[1]
        form = {"login": login, "password": password}
        location = _redirected_to(browser, urllib.parse.urljoin(page_url, action), form)
    if location is None:
        return {"page": browser.last_page[1]}
    assert location.startswith(idp.redirect_uris[0])
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(location).query))
    assert query["state"] == params["state"]
    return {**query, "verifier": verifier, "nonce": params["nonce"], "config": config}


def _tokens(idp, answer: dict, *, secret: str | None = None, basic=False) -> tuple[dict, dict]:
    """Exchanges the code as mozilla-django-oidc does (the secret in the body by default, in
    HTTP Basic with OIDC_TOKEN_USE_BASIC_AUTH); the verified ID token's claims and userinfo."""
    config = answer["config"]
    form = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": idp.redirect_uris[0],
        "client_id": idp.client_id,
        "client_secret": secret or idp.client_secret,
        "code_verifier": answer["verifier"],
    }
    headers = {}
    if basic:
        pair = f"{form.pop('client_id')}:{form.pop('client_secret')}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    data = urllib.parse.urlencode(form).encode()
    url = config["token_endpoint"]
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310
        tokens = json.load(response)
    key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"],
        key,
        algorithms=["RS256"],
        audience=idp.client_id,
        issuer=idp.issuer,
    )
    assert claims["nonce"] == answer["nonce"]
    bearer = f"Bearer {tokens['access_token']}"
    return claims, _get_json(config["userinfo_endpoint"], Authorization=bearer)


def test_discovery_names_the_endpoints_and_s256(oidc_provider):
    config = _get_json(oidc_provider.discovery_url)

    assert config["issuer"] == oidc_provider.issuer
    for endpoint in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        assert config[endpoint].startswith(oidc_provider.issuer)
    assert config["end_session_endpoint"] == f"{oidc_provider.issuer}/session/end"
    assert "S256" in config["code_challenge_methods_supported"]
    assert {"groups", "preferred_username", "email"} <= set(config["claims_supported"])
    assert "groups" in config["scopes_supported"]


def test_sign_in_with_pkce_and_groups_follow_the_accounts_file(oidc_provider):
    browser = _browser(oidc_provider.redirect_uris[0])

    claims, userinfo = _tokens(oidc_provider, _authorize(oidc_provider, browser))

    assert claims["sub"] == "sara"
    assert claims["preferred_username"] == "sara"
    assert claims["email"] == "sara@example.test"
    assert claims["groups"] == ["gov-security"]
    assert userinfo["groups"] == ["gov-security"]

    oidc_provider.set_groups("sara", ["gov-auditors"])
    # Same browser: the provider's session signs her in without the form, with fresh claims.
    claims, userinfo = _tokens(oidc_provider, _authorize(oidc_provider, browser))

    assert claims["groups"] == ["gov-auditors"]
    assert userinfo["groups"] == ["gov-auditors"]


def test_a_wrong_password_shows_the_form_again(oidc_provider):
    answer = _authorize(oidc_provider, _browser(oidc_provider.redirect_uris[0]), password="no")

    assert 'id="login-error"' in answer["page"]
    assert 'id="sign-in"' in answer["page"]


def test_pkce_is_required(oidc_provider):
    answer = _authorize(oidc_provider, _browser(oidc_provider.redirect_uris[0]), challenge=False)

    assert answer["error"] == "invalid_request"
    assert "PKCE" in answer["error_description"]


def test_the_token_endpoint_takes_the_secret_in_basic_auth_too(oidc_provider):
    answer = _authorize(
        oidc_provider, _browser(oidc_provider.redirect_uris[0]), login="eve", password="eve-pw"
    )

    claims, _ = _tokens(oidc_provider, answer, basic=True)

    assert claims["groups"] == ["gov-engineers", "team-payments"]


def test_the_token_endpoint_refuses_a_wrong_secret(oidc_provider):
    answer = _authorize(oidc_provider, _browser(oidc_provider.redirect_uris[0]))

    with pytest.raises(urllib.error.HTTPError) as refused:
        _tokens(oidc_provider, answer, secret="wrong")

    assert refused.value.code == 401
