"""Verifying a workload's subject token against the trust provider that issued it.

PyJWT does the cryptography. What is checked, in order: the token parses; its `iss` names a
trust provider; its `alg` is one that provider allows (asymmetric only: never `none`, never
HMAC); its `kid` is one of the provider's keys; the signature; `iss`, `aud`, `exp`, `nbf`;
`iat` present, not in the future and not older than the provider allows; `sub` present.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt

from credentials import provider_keys
from credentials.limits import ASYMMETRIC_ALGORITHMS, LEEWAY_SECONDS, SUBJECT_TOKEN_MAX_LENGTH
from credentials.models import TrustProvider
from credentials.provider_keys import JwksUnavailable

__all__ = ["InvalidSubjectToken", "JwksUnavailable", "VerifiedToken", "peek", "verify"]


class InvalidSubjectToken(Exception):
    """The subject token is not one the portal accepts; the message says why."""


@dataclass(frozen=True)
class VerifiedToken:
    provider: TrustProvider
    subject: str
    claims: dict[str, Any]

    @property
    def workload(self) -> str:
        """Who the token says is calling, as people read it: "trust provider: subject"."""
        return f"{self.provider.slug}: {self.subject}"


def peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims, NOT verified: only to find whom to ask (never to trust)."""
    if not token or len(token) > SUBJECT_TOKEN_MAX_LENGTH:
        raise InvalidSubjectToken("The subject token is empty or too long.")
    try:
        parsed = jwt.decode_complete(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidSubjectToken(f"The subject token is not a JWT: {exc}.") from exc
    if not isinstance(parsed["payload"], dict):
        raise InvalidSubjectToken("The subject token's claims are not an object.")
    return parsed["header"], parsed["payload"]


def _provider_for(claims: dict[str, Any], known: Iterable[TrustProvider]) -> TrustProvider:
    """The provider named by `iss` (several may share an issuer, told apart by audience).
    `known`: providers with this issuer read already (with the bindings), to save a query."""
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    match = next((p for p in known if p.audience in audiences), None)
    if match is not None:
        return match
    issuer = claims.get("iss")
    providers = list(TrustProvider.objects.filter(issuer=issuer)) if isinstance(issuer, str) else []
    if not providers:
        raise InvalidSubjectToken(f"No trust provider has the issuer '{str(issuer)[:200]}'.")
    return next((p for p in providers if p.audience in audiences), providers[0])


def verify(
    token: str,
    *,
    now: datetime,
    known: Iterable[TrustProvider] = (),
    peeked: tuple[dict[str, Any], dict[str, Any]] | None = None,
) -> VerifiedToken:
    """The verified token, or InvalidSubjectToken / JwksUnavailable (nothing else).
    `peeked`: what `peek(token)` returned, when the caller looked already."""
    header, unverified = peeked or peek(token)
    provider = _provider_for(unverified, known)
    algorithm = str(header.get("alg"))
    allowed = [a for a in provider.algorithms if a in ASYMMETRIC_ALGORITHMS]
    if algorithm not in allowed:
        raise InvalidSubjectToken(
            f"The subject token is signed with '{algorithm}'; trust provider "
            f"'{provider.slug}' accepts {', '.join(allowed)}."
        )
    kid = str(header.get("kid", ""))
    key = provider_keys.signing_key(provider, kid)
    if key is None:
        raise InvalidSubjectToken(
            f"The subject token's key '{kid[:100]}' is not one of trust provider "
            f"'{provider.slug}''s keys."
        )
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=provider.audience,
            issuer=provider.issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "sub", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidSubjectToken("The subject token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise InvalidSubjectToken("The subject token is not valid yet (nbf or iat).") from exc
    except jwt.InvalidAudienceError as exc:
        raise InvalidSubjectToken(
            f"The subject token's audience is not '{provider.audience}'."
        ) from exc
    except jwt.PyJWTError as exc:
        raise InvalidSubjectToken(f"The subject token is not valid: {exc}.") from exc
    return VerifiedToken(provider, _subject(claims), _checked_age(claims, provider, now))


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidSubjectToken("The subject token has no subject (sub).")
    return subject


def _checked_age(claims: dict[str, Any], provider: TrustProvider, now: datetime) -> dict:
    issued = claims.get("iat")
    if not isinstance(issued, int | float):
        raise InvalidSubjectToken("The subject token's iat is not a time.")
    age = now.timestamp() - issued
    if age > provider.max_token_age_seconds + LEEWAY_SECONDS:
        raise InvalidSubjectToken(
            f"The subject token was issued {int(age)} s ago; trust provider "
            f"'{provider.slug}' accepts tokens at most {provider.max_token_age_seconds} s old."
        )
    return claims
