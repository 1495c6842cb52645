"""OpenID Connect sign-in, on mozilla-django-oidc: authorization code flow with PKCE and a
nonce, the provider's endpoints discovered from OIDC_ISSUER.

What this adds to the library: discovery (fetched lazily and cached, so an unreachable IdP
never breaks the password login of superusers), ID token checks the library leaves out
(`aud` is our client id, `iss` the issuer, `exp` present), users found by their OIDC subject,
created on first sign-in, and their roles and teams set from the groups claim on every
sign-in. A deactivated (left) person cannot sign in again through the IdP.
"""

import logging
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import resolve_url
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from directory.models import DirectoryAccount
from directory.services import OIDC_SOURCE, account_of, sync_memberships

logger = logging.getLogger(__name__)

DISCOVERY_CACHE_SECONDS = 3600
LEEWAY_SECONDS = 30


class IdentityProviderUnavailable(Exception):
    """The IdP's discovery document cannot be read, or is not one; the message says which."""


def discovery() -> dict[str, Any]:
    """The provider's OpenID configuration (cached for an hour)."""
    issuer = settings.OIDC_ISSUER
    if not issuer:
        raise IdentityProviderUnavailable("Single sign-on is not configured (OIDC_ISSUER).")
    key = f"directory:oidc-discovery:{issuer}"
    document = cache.get(key)
    if document is not None:
        return document
    url = f"{issuer}/.well-known/openid-configuration"
    try:
        response = requests.get(url, timeout=settings.OIDC_TIMEOUT)
        response.raise_for_status()
        document = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise IdentityProviderUnavailable(f"{url} could not be read ({exc}).") from exc
    required = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
    missing = [
        name for name in required if not isinstance(document, dict) or not document.get(name)
    ]
    if missing:
        raise IdentityProviderUnavailable(
            f"{url} is not an OpenID configuration (no {missing[0]})."
        )
    if document["issuer"].rstrip("/") != issuer:
        raise IdentityProviderUnavailable(
            f"{url} names the issuer {document['issuer']}, not {issuer}."
        )
    cache.set(key, document, DISCOVERY_CACHE_SECONDS)
    return document


_DISCOVERED = {
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "authorization_endpoint",
    "OIDC_OP_TOKEN_ENDPOINT": "token_endpoint",
    "OIDC_OP_USER_ENDPOINT": "userinfo_endpoint",
    "OIDC_OP_JWKS_ENDPOINT": "jwks_uri",
}


def _setting(attr: str, *default: Any) -> Any:
    if attr in _DISCOVERED:
        return discovery().get(_DISCOVERED[attr], *default)
    return getattr(settings, attr, *default)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """Reads the provider's endpoints only when a sign-in needs them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.UserModel = User
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_RP_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = settings.OIDC_RP_SIGN_ALGO
        self.OIDC_RP_IDP_SIGN_KEY = None

    get_settings = staticmethod(_setting)

    @property
    def OIDC_OP_TOKEN_ENDPOINT(self) -> str:  # noqa: N802 (the library's name)
        return discovery()["token_endpoint"]

    @property
    def OIDC_OP_USER_ENDPOINT(self) -> str | None:  # noqa: N802
        return discovery().get("userinfo_endpoint")

    @property
    def OIDC_OP_JWKS_ENDPOINT(self) -> str:  # noqa: N802
        return discovery()["jwks_uri"]

    def get_user(self, user_id: Any) -> User | None:
        """The session's user, while active: a leaver's session ends at once."""
        return self.UserModel.objects.filter(pk=user_id, is_active=True).first()

    def _verify_jws(self, payload: str, key: Any) -> dict[str, Any]:
        """The library checks the signature and `exp`; we also check `aud` and `iss`."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != self.OIDC_RP_SIGN_ALGO:
            raise SuspiciousOperation(f"The ID token is signed with {header.get('alg')}.")
        try:
            return jwt.decode(
                payload,
                key,
                algorithms=[self.OIDC_RP_SIGN_ALGO],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=discovery()["issuer"],
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"The ID token was refused: {exc}.") from exc

    def get_userinfo(self, access_token: str, id_token: str, payload: dict) -> dict:
        """The ID token's claims, completed by the userinfo endpoint where there is one."""
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT:
            extra = super().get_userinfo(access_token, id_token, payload)
            if extra.get("sub") not in (None, payload.get("sub")):
                raise SuspiciousOperation("The userinfo subject is not the ID token's.")
            claims.update(extra)
        return claims

    def verify_claims(self, claims: dict) -> bool:
        return bool(claims.get("sub")) and bool(
            claims.get("preferred_username") or claims.get("email")
        )

    def filter_users_by_claims(self, claims: dict):
        account = DirectoryAccount.objects.filter(oidc_subject=claims["sub"]).select_related("user")
        found = account.first()
        if found is not None:
            return self.UserModel.objects.filter(pk=found.user_id)
        return self.UserModel.objects.filter(username=_username(claims))

    @transaction.atomic
    def create_user(self, claims: dict) -> User:
        user = self.UserModel.objects.create_user(
            username=_username(claims), email=claims.get("email", "")[:254]
        )
        return self.update_user(user, claims)

    @transaction.atomic
    def update_user(self, user: User, claims: dict) -> User:
        if not user.is_active:
            raise SuspiciousOperation(f"'{user.username}' has been deactivated in the portal.")
        account = account_of(user)
        if account.oidc_subject not in (None, claims["sub"]):
            raise SuspiciousOperation("Another IdP subject already owns this username.")
        if account.oidc_subject is None:
            account.oidc_subject = claims["sub"]
            account.save(update_fields=["oidc_subject"])
        if settings.OIDC_GROUPS_CLAIM not in claims:
            # No groups claim at all (e.g. Google): roles and teams come from SCIM alone.
            return user
        groups = claims[settings.OIDC_GROUPS_CLAIM] or []
        if not isinstance(groups, list):
            groups = [groups]
        sync_memberships(user, [str(g) for g in groups], source=OIDC_SOURCE)
        return user


def _username(claims: dict) -> str:
    return str(claims.get("preferred_username") or claims.get("email"))[:150]


class SignInView(OIDCAuthenticationRequestView):
    """/oidc/authenticate/: off to the provider (with PKCE and a nonce)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID

    get_settings = staticmethod(_setting)

    @property
    def OIDC_OP_AUTH_ENDPOINT(self) -> str:  # noqa: N802 (the library's name)
        return discovery()["authorization_endpoint"]


class CallbackView(OIDCAuthenticationCallbackView):
    get_settings = staticmethod(_setting)


def provider_logout_url(request: HttpRequest) -> str:
    """Where to send the browser after the portal's logout: the provider's end-session
    endpoint (RP-initiated logout) when it offers one, else the login page."""
    login = request.build_absolute_uri(resolve_url(settings.LOGIN_URL))
    try:
        endpoint = discovery().get("end_session_endpoint")
    except IdentityProviderUnavailable:
        return login
    if not endpoint:
        return login
    query = {"post_logout_redirect_uri": login, "client_id": settings.OIDC_RP_CLIENT_ID}
    id_token = request.session.get("oidc_id_token")
    if id_token:
        query["id_token_hint"] = id_token
    return f"{endpoint}?{urlencode(query)}"
