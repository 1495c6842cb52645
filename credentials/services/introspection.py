"""Introspection (RFC 7662): is this access token still good, now?

Beyond its signature and expiry, a token is active only while everything that allowed it
still holds: the agent is active and was not suspended since (a reactivation revives no
token issued before the suspension), and every grant and exception behind it is still in force
(not revoked, not expired). So a revocation takes effect at once for those who introspect,
and within the token's lifetime for those who verify offline against the JWKS.
"""

from datetime import datetime
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone

from access.models import Grant
from access.rules import grant_active_q
from credentials.keys import published_keys
from credentials.limits import LEEWAY_SECONDS
from credentials.models import IssuedCredential
from exceptions.models import PolicyException
from exceptions.rules import exception_in_force_q
from registry.models import AgentStatus

INACTIVE: dict[str, Any] = {"active": False}


def verified_claims(token: str, now: datetime) -> dict[str, Any] | None:
    """The claims of a token the portal signed (signature, iss, exp checked), else None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError:
        return None
    key = next((k for k in published_keys(now) if k.kid == kid), None)
    if key is None:
        return None
    try:
        return jwt.decode(
            token,
            key=jwt.PyJWK(key.public_jwk),
            algorithms=[key.algorithm],
            issuer=settings.PORTAL_ISSUER,
            leeway=LEEWAY_SECONDS,
            options={"verify_aud": False, "require": ["exp", "iat", "jti", "sub"]},
        )
    except jwt.PyJWTError:
        return None


def still_allowed(credential: IssuedCredential, now: datetime) -> bool:
    """Whether the agent is active and has not changed status since the credential was
    issued, and every grant and exception behind it is in force.

    Credentials are issued to active agents only, so a status change after the issue is a
    suspension (or retirement): the credential ends for good, and reactivating the agent does
    not revive it. `issued_at` is whole seconds (the token's `iat`), so a change in the same
    second as the issue ends it too: the safe side."""
    agent = credential.agent
    if agent.status != AgentStatus.ACTIVE or credential.expires_at <= now:
        return False
    if agent.status_changed_at is not None and agent.status_changed_at >= credential.issued_at:
        return False
    grants = Grant.objects.filter(grant_active_q(now), pk__in=credential.grant_ids).count()
    exceptions = PolicyException.objects.filter(
        exception_in_force_q(now), pk__in=credential.exception_ids
    ).count()
    return grants == len(credential.grant_ids) and exceptions == len(credential.exception_ids)


def introspect(token: str) -> dict[str, Any]:
    now = timezone.now()
    if not isinstance(token, str) or not token or len(token) > 8192:
        return INACTIVE
    claims = verified_claims(token, now)
    if claims is None:
        return INACTIVE
    credential = IssuedCredential.objects.select_related("agent").filter(jti=claims["jti"]).first()
    if credential is None or not still_allowed(credential, now):
        return INACTIVE
    return {
        "active": True,
        "scope": claims.get("scope", ""),
        "sub": claims["sub"],
        "aud": claims.get("aud"),
        "iss": claims.get("iss"),
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
        "token_type": "Bearer",
        "policy_version": claims.get("policy_version"),
        "grants": credential.grant_ids,
        "exceptions": credential.exception_ids,
    }
