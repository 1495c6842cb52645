"""Trust providers' public keys: fetched from `jwks_uri` with a timeout, cached, fetched once
more for an unknown `kid` (at most once per JWKS_REFETCH_MIN_SECONDS), or read inline.

The cache is Django's (CACHE_URL: shared between processes when it points at Redis). A fetch
that fails raises JwksUnavailable: the exchange answers 503 and issues nothing.
"""

import json
import urllib.error
import urllib.request
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlsplit

import jwt
from django.conf import settings
from django.core.cache import cache

from credentials.models import TrustProvider

MAX_JWKS_BYTES = 256 * 1024


class JwksUnavailable(Exception):
    """The provider's keys could not be read (unreachable, not a JWK Set, too large)."""


def _cache_key(provider: TrustProvider) -> str:
    return f"credentials:jwks:{provider.pk}:{provider.jwks_uri}"


def _loopback(host: str | None) -> bool:
    """Whether `host` is this machine: nothing on the network sits between it and the portal."""
    if host == "localhost":
        return True
    try:
        return ip_address(host or "").is_loopback
    except ValueError:
        return False


def insecure_refusal(url: str) -> str | None:
    """Why keys may not be fetched from `url` (None: they may): https only, plain http only
    on this machine. Keys fetched over http could be swapped on the way, and whoever swaps
    them signs tokens the portal would trust. Checked when a provider is saved and again
    before every fetch (a provider saved before the rule, or changed in the database)."""
    address = urlsplit(url)
    if address.scheme == "https" or (address.scheme == "http" and _loopback(address.hostname)):
        return None
    return (
        "an https address (plain http only on this machine, e.g. http://127.0.0.1): keys "
        "fetched over http could be swapped on the way."
    )


def fetch(url: str) -> dict[str, Any]:
    """GET a JWK Set. Any failure is a JwksUnavailable that says what went wrong."""
    if refusal := insecure_refusal(url):
        raise JwksUnavailable(f"{url} is not {refusal}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(  # noqa: S310 (insecure_refusal above)
            request, timeout=settings.JWKS_FETCH_TIMEOUT_SECONDS
        ) as response:
            body = response.read(MAX_JWKS_BYTES + 1)
    except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise JwksUnavailable(f"could not fetch {url}: {reason}") from exc
    if len(body) > MAX_JWKS_BYTES:
        raise JwksUnavailable(f"{url} answered more than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise JwksUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksUnavailable(f"{url} did not answer a JWK Set (no 'keys' list)")
    return document


PUBLIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})


def usable_keys(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    """The usable public signing keys of a JWK Set, by kid. Symmetric (`oct`) keys, keys for
    encryption and keys PyJWT cannot read are skipped."""
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document.get("keys", []):
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in PUBLIC_KEY_TYPES or "d" in entry:
            continue  # a symmetric key, or a private one published by mistake
        try:
            key = jwt.PyJWK(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
            continue
        keys[str(entry.get("kid", ""))] = key
    return keys


def signing_key(provider: TrustProvider, kid: str) -> jwt.PyJWK | None:
    """The provider's key with this kid, or None if it has none (after one refetch)."""
    if provider.jwks:
        return usable_keys(provider.jwks).get(kid)
    cache_key = _cache_key(provider)
    document = cache.get(cache_key)
    if document is None:
        document = fetch(provider.jwks_uri)
        cache.set(cache_key, document, settings.JWKS_CACHE_SECONDS)
    key = usable_keys(document).get(kid)
    if key is not None:
        return key
    # Unknown kid: the provider may have rotated. Fetch again, but not more often than allowed
    # (a stream of tokens with made-up kids must not turn into a stream of fetches).
    if not cache.add(f"{cache_key}:refetched", True, settings.JWKS_REFETCH_MIN_SECONDS):
        return None
    document = fetch(provider.jwks_uri)
    cache.set(cache_key, document, settings.JWKS_CACHE_SECONDS)
    return usable_keys(document).get(kid)


def forget(provider: TrustProvider) -> None:
    """Drop the cached keys (the provider's jwks_uri changed, or it was deleted)."""
    cache.delete_many([_cache_key(provider), f"{_cache_key(provider)}:refetched"])
