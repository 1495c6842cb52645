"""Trust providers: security adds, changes and removes them; each change is audited."""

from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from credentials import provider_keys
from credentials.limits import (
    ASYMMETRIC_ALGORITHMS,
    MAX_TOKEN_AGE_SECONDS,
    MIN_TOKEN_AGE_SECONDS,
)
from credentials.models import BindingStatus, TrustProvider
from kernel.audit import audit_actor
from kernel.editing import save_unique
from kernel.errors import ApplicationError
from kernel.permissions import Action, require

FIELDS = ("slug", "name", "issuer", "jwks_uri", "jwks", "audience", "algorithms")
EDITABLE = (*FIELDS[1:], "max_token_age_seconds")


def check_algorithms(algorithms: Any) -> list[str]:
    if not isinstance(algorithms, list) or not algorithms:
        raise ApplicationError("algorithms: name at least one.", field="algorithms")
    refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
    if refused:
        raise ApplicationError(
            f"algorithms: '{str(refused[0])[:40]}' is not accepted (asymmetric signatures only: "
            f"{', '.join(ASYMMETRIC_ALGORITHMS)}; never 'none' or HMAC).",
            field="algorithms",
        )
    return sorted(set(algorithms), key=algorithms.index)


def check_keys(jwks_uri: str, jwks: Any) -> None:
    """Exactly one source of keys: an https jwks_uri (plain http only from this machine), or
    an inline JWK Set. Keys fetched over plain http could be swapped on the way, and whoever
    swaps them signs tokens the portal would trust."""
    if bool(jwks_uri) == bool(jwks):
        raise ApplicationError(
            "Give the provider's keys one way: a jwks_uri or an inline jwks.", field="jwks_uri"
        )
    if jwks_uri and (refusal := provider_keys.insecure_refusal(jwks_uri)):
        raise ApplicationError(f"jwks_uri: {refusal}", field="jwks_uri")
    if jwks and (not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list)):
        raise ApplicationError("jwks: a JWK Set, an object with a 'keys' list.", field="jwks")
    if jwks and not provider_keys.usable_keys(jwks):
        raise ApplicationError("jwks: none of its keys is a usable public key.", field="jwks")


def _checked(provider: TrustProvider) -> None:
    provider.algorithms = check_algorithms(provider.algorithms)
    check_keys(provider.jwks_uri, provider.jwks)
    if not MIN_TOKEN_AGE_SECONDS <= provider.max_token_age_seconds <= MAX_TOKEN_AGE_SECONDS:
        raise ApplicationError(
            f"max_token_age_seconds: between {MIN_TOKEN_AGE_SECONDS} and {MAX_TOKEN_AGE_SECONDS}.",
            field="max_token_age_seconds",
        )
    for name in ("issuer", "audience"):
        if not str(getattr(provider, name)).strip():
            raise ApplicationError(f"{name}: This field may not be blank.", field=name)
    twin = _same_issuer_and_audience(provider)
    if twin is not None:
        raise ApplicationError(_twin_refusal(twin), field="issuer", code="duplicate")


def _same_issuer_and_audience(provider: TrustProvider) -> TrustProvider | None:
    """Another provider with this issuer and audience: a token is verified against the first
    such provider only, so a second one could never be used."""
    others = TrustProvider.objects.filter(issuer=provider.issuer, audience=provider.audience)
    if provider.pk is not None:
        others = others.exclude(pk=provider.pk)
    return others.first()


def _twin_refusal(twin: TrustProvider) -> str:
    return (
        f"Trust provider '{twin.slug}' already has this issuer and audience: tokens with them "
        "are verified by it. Change that provider, or give this one another audience."
    )


def _save(provider: TrustProvider) -> None:
    """Save; losing a race with another provider of this slug, or of this issuer and
    audience, is refused like the checks above (the database's unique constraints)."""
    save_unique(
        provider, "Another trust provider with this slug, or this issuer and audience, exists."
    )


@transaction.atomic
def provider_create(*, actor: User, **fields: Any) -> TrustProvider:
    require(actor, Action.MANAGE_TRUST)
    if TrustProvider.objects.filter(slug=fields.get("slug")).exists():
        raise ApplicationError(
            f"A trust provider '{fields.get('slug')}' exists already.", field="slug"
        )
    provider = TrustProvider(**fields)
    _checked(provider)
    with audit_actor(actor):
        _save(provider)
    return provider


@transaction.atomic
def provider_update(*, actor: User, provider: TrustProvider, **changes: Any) -> TrustProvider:
    require(actor, Action.MANAGE_TRUST)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ApplicationError(f"{sorted(unknown)[0]} cannot be changed.", code="read_only")
    for name, value in changes.items():
        setattr(provider, name, value)
    _checked(provider)
    with audit_actor(actor):
        _save(provider)
    provider_keys.forget(provider)
    return provider


@transaction.atomic
def provider_delete(*, actor: User, provider: TrustProvider) -> TrustProvider:
    """Only a provider nothing was issued through and no live binding names. Returns it as it
    was (its slug still reads)."""
    require(actor, Action.MANAGE_TRUST)
    live = provider.bindings.exclude(status__in=[BindingStatus.REJECTED, BindingStatus.REMOVED])
    if live.exists() or provider.credentials.exists():
        raise ApplicationError(
            f"Trust provider '{provider.slug}' has bindings or issued credentials: remove its "
            "bindings first; a provider that issued credentials stays, as evidence.",
            code="in_use",
        )
    with audit_actor(actor):
        provider.bindings.all().delete()
        provider.delete()
    provider_keys.forget(provider)
    return provider
