"""Token exchange (RFC 8693): a workload's subject token in, a short-lived access token out.

The one orchestrator: verify the subject token (credentials.subject_tokens), find the agent
by its identity binding (credentials.rules), take the decision for every capability asked for
through the decision service (each recorded in the decision log with the credential's `jti`),
and issue only if every one is allowed. The token lives CREDENTIAL_MAX_TTL_SECONDS at most,
and never past the earliest grant or exception that allowed it.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jwt
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection
from django.utils import timezone

from access.models import Grant
from credentials import keys
from credentials.limits import CAPABILITIES_PER_TOKEN_MAX, RESOURCE_MAX_LENGTH, SUBJECT_MAX_LENGTH
from credentials.models import (
    BindingStatus,
    IdentityBinding,
    IssuedCredential,
    RefusedExchange,
)
from credentials.rules import binding_matches, unmet_constraints
from credentials.selectors import exchange_candidates
from credentials.subject_tokens import (
    InvalidSubjectToken,
    JwksUnavailable,
    VerifiedToken,
    peek,
    verify,
)
from decisions.services.engine import DecisionResult, evaluate
from decisions.services.log import record_with
from exceptions.models import PolicyException
from registry.models import AgentStatus

logger = logging.getLogger(__name__)

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt"  # noqa: S105 (a name)
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 (a name)


class ExchangeError(Exception):
    """An RFC 6749 §5.2 error: `error` code, `description` for people, HTTP `status`."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def as_dict(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True)
class Issued:
    access_token: str
    credential: IssuedCredential

    def as_response(self) -> dict[str, object]:
        credential = self.credential
        return {
            "access_token": self.access_token,
            "issued_token_type": JWT_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": int((credential.expires_at - credential.issued_at).total_seconds()),
            "scope": " ".join(credential.capabilities),
        }


def capabilities_in(scope: str) -> list[str]:
    """The capabilities asked for: space-separated `tool:action`, each once, in order."""
    asked = list(dict.fromkeys(scope.split()))
    if not asked:
        raise ExchangeError("invalid_scope", "Name at least one capability (tool:action) in scope.")
    if len(asked) > CAPABILITIES_PER_TOKEN_MAX:
        raise ExchangeError(
            "invalid_scope", f"Ask for at most {CAPABILITIES_PER_TOKEN_MAX} capabilities at once."
        )
    malformed = [key for key in asked if key.count(":") != 1 or ":" in (key[0], key[-1])]
    if malformed:
        raise ExchangeError(
            "invalid_scope", f"'{malformed[0][:100]}' is not a capability (tool:action)."
        )
    return asked


def checked_resource(resource: list[str]) -> str:
    """At most one resource: the scope the decision API knows (e.g. acme/payments-api)."""
    if len(resource) > 1:
        raise ExchangeError("invalid_target", "Name at most one resource per exchange.")
    value = resource[0].strip() if resource else ""
    if len(value) > RESOURCE_MAX_LENGTH or any(ch.isspace() or ord(ch) < 32 for ch in value):
        raise ExchangeError(
            "invalid_target",
            f"The resource must be one scope without spaces, at most {RESOURCE_MAX_LENGTH} "
            "characters.",
        )
    return value


def exchange(*, subject_token: str, scope: str, resource: list[str]) -> Issued:
    now = timezone.now()
    capabilities = capabilities_in(scope)
    target = checked_resource(resource)
    verified, binding = workload_binding(subject_token, now=now)
    jti = uuid.uuid4().hex
    # Each capability decided by the decision service; the decisions are recorded with the
    # credential (one statement) or, refused, on their own: evidence either way.
    results = [
        evaluate(agent_slug=binding.agent.slug, capability_key=key, scope=target)
        for key in capabilities
    ]
    denied = [result for result in results if not result.allowed]
    if denied:
        record_with(results, workload=verified.workload, credential_jti=jti)
        description = " ".join(f"{r.capability_key}: {r.reason}" for r in denied)
        _refuse(verified, now, "invalid_scope", description, binding)
    credential = _credential(jti, binding, verified, results, target, now)
    return _issue(credential, results, verified.workload)


def workload_binding(subject_token: str, *, now: datetime) -> tuple[VerifiedToken, IdentityBinding]:
    """Who a workload's subject token is: verified against its trust provider's keys, and the
    one active binding (agent active) it matches. Every exchange starts here, and so does the
    MCP server for a workload's bearer token. Refused with ExchangeError: `invalid_grant`, or
    `temporarily_unavailable` (503) when the provider's keys cannot be read."""
    try:
        peeked = peek(subject_token)
        candidates = _candidates(peeked[1])
        verified = verify(
            subject_token, now=now, known={b.provider for b in candidates}, peeked=peeked
        )
    except InvalidSubjectToken as exc:
        raise ExchangeError("invalid_grant", str(exc)) from None
    except JwksUnavailable as exc:
        raise ExchangeError(
            "temporarily_unavailable",
            f"The trust provider's keys cannot be read now ({exc}); nothing was issued. "
            "Try again shortly.",
            status=503,
        ) from None
    binding = bound_binding(
        verified, now, [b for b in candidates if b.provider_id == verified.provider.pk]
    )
    return verified, binding


def _candidates(unverified: dict) -> list[IdentityBinding]:
    """The live bindings for the token's (unverified) issuer and subject, with their provider
    and agent, in one query. Nothing is trusted until the signature is verified."""
    issuer, subject = unverified.get("iss"), unverified.get("sub")
    if not isinstance(issuer, str) or not isinstance(subject, str):
        return []
    return exchange_candidates(issuer, subject)


def bound_binding(
    verified: VerifiedToken, now: datetime, candidates: list[IdentityBinding]
) -> IdentityBinding:
    """The one active binding this token matches, its agent active; refused otherwise."""
    matching = [b for b in candidates if binding_matches(b.claims, verified.claims)]
    active = [b for b in matching if b.status == BindingStatus.ACTIVE]
    who = f"'{verified.subject[:200]}' of trust provider '{verified.provider.slug}'"
    if not candidates:
        _refuse(verified, now, "invalid_grant", f"The subject {who} is bound to no agent.")
    if not matching:
        unmet = sorted(
            {name for b in candidates for name in unmet_constraints(b.claims, verified.claims)}
        )
        _refuse(
            verified,
            now,
            "invalid_grant",
            f"The subject {who} does not meet its binding's claim constraints "
            f"({', '.join(unmet)}).",
        )
    if not active:
        _refuse(
            verified,
            now,
            "invalid_grant",
            f"The binding of {who} to agent '{matching[0].agent.slug}' awaits security approval.",
            matching[0],
        )
    agents = sorted({b.agent.slug for b in active})
    if len(agents) > 1:
        _refuse(
            verified,
            now,
            "invalid_grant",
            f"The subject {who} matches bindings of more than one agent ({', '.join(agents)}): "
            "security must remove all but one.",
        )
    binding = active[0]
    if binding.agent.status != AgentStatus.ACTIVE:
        _refuse(
            verified,
            now,
            "invalid_grant",
            f"Agent '{binding.agent.slug}' is {binding.agent.status}: it gets no credential.",
            binding,
        )
    return binding


def _refuse(
    verified: VerifiedToken,
    now: datetime,
    error: str,
    description: str,
    binding: IdentityBinding | None = None,
) -> None:
    """Record a genuine token's refusal for security to see, then refuse."""
    RefusedExchange.objects.create(
        provider=verified.provider,
        subject=verified.subject[:SUBJECT_MAX_LENGTH],
        agent=binding.agent if binding else None,
        error=error,
        description=description[:1000],
        claims=_claims_excerpt(verified.claims),
        at=now,
    )
    raise ExchangeError(error, description)


def _claims_excerpt(claims: dict) -> dict:
    """The token's claims as evidence, without anything long (a few hundred bytes at most)."""
    return {
        name: value
        for name, value in list(claims.items())[:30]
        if isinstance(value, str | int | float | bool) and len(str(value)) <= 200
    }


def _expiry(results: list[DecisionResult], now: datetime) -> datetime:
    """The token's end: the maximum TTL, or the earliest end of a grant or exception behind it."""
    limit = now + timedelta(seconds=settings.CREDENTIAL_MAX_TTL_SECONDS)
    grant_ids = [r.grant_id for r in results if r.grant_id is not None]
    exception_ids = [r.exception_id for r in results if r.exception_id is not None]
    ends = [limit]
    if grant_ids:
        ends += Grant.objects.filter(pk__in=grant_ids).values_list("expires_at", flat=True)
    if exception_ids:
        ends += PolicyException.objects.filter(pk__in=exception_ids).values_list(
            "expires_at", flat=True
        )
    return min(ends)


_RECORDED = [f for f in IssuedCredential._meta.concrete_fields if not f.primary_key]


@cache
def _insert_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.attname) for field in _RECORDED)
    marks = ", ".join(["%s"] * len(_RECORDED))
    return (
        f"INSERT INTO {quote(IssuedCredential._meta.db_table)} ({columns}) VALUES ({marks}) "
        f"RETURNING {quote('id')}"
    )


def _credential_insert(credential: IssuedCredential) -> tuple[str, list]:
    """The credential's INSERT … RETURNING id, for `record_with` to run with its decisions."""
    values = [
        field.get_db_prep_save(getattr(credential, field.attname), connection)
        for field in _RECORDED
    ]
    return _insert_sql(connection.vendor), values


def _signer() -> keys.ActiveKey:
    try:
        return keys.active_key()
    except ImproperlyConfigured as exc:
        logger.error("Cannot sign access tokens: %s", exc)
        raise ExchangeError(
            "temporarily_unavailable",
            "The portal cannot sign credentials now (its signing key is unavailable); "
            "nothing was issued. Security has been told in the log.",
            status=503,
        ) from None


def _credential(
    jti: str,
    binding: IdentityBinding,
    verified: VerifiedToken,
    results: list[DecisionResult],
    resource: str,
    now: datetime,
) -> IssuedCredential:
    """The record of what is about to be issued (not saved yet)."""
    expires = _expiry(results, now).replace(microsecond=0)
    issued = now.replace(microsecond=0)
    if expires <= issued:
        raise ExchangeError("invalid_scope", "The grant behind this capability ends now.")
    capabilities = [r.capability_key for r in results]
    return IssuedCredential(
        jti=jti,
        agent=binding.agent,
        capabilities=capabilities,
        capability_keys=f" {' '.join(capabilities)} ",
        resource=resource,
        provider=verified.provider,
        binding=binding,
        subject=verified.subject[:SUBJECT_MAX_LENGTH],
        issued_at=issued,
        expires_at=expires,
        policy_version=results[0].policy_version,
        grant_ids=sorted({r.grant_id for r in results if r.grant_id is not None}),
        exception_ids=sorted({r.exception_id for r in results if r.exception_id is not None}),
        agent_status=binding.agent.status,
    )


def access_claims(credential: IssuedCredential) -> dict[str, object]:
    """The access token's claims, from its record."""
    issued = int(credential.issued_at.timestamp())
    return {
        "iss": settings.PORTAL_ISSUER,
        "sub": f"agent:{credential.agent.slug}",
        "aud": sorted({key.split(":", 1)[0] for key in credential.capabilities}),
        "scope": " ".join(credential.capabilities),
        "iat": issued,
        "nbf": issued,
        "exp": int(credential.expires_at.timestamp()),
        "jti": credential.jti,
        "policy_version": credential.policy_version,
        "grants": credential.grant_ids,
        "exceptions": credential.exception_ids,
        "workload": {"provider": credential.provider.slug, "sub": credential.subject},
        **({"resource": credential.resource} if credential.resource else {}),
    }


def _issue(credential: IssuedCredential, results: list[DecisionResult], workload: str) -> Issued:
    """Sign, then record (with the decisions, one statement); the token is returned only once
    its record is committed."""
    signer = _signer()
    credential.signing_key = signer.row
    token = jwt.encode(
        access_claims(credential),
        signer.private_key,  # type: ignore[arg-type]
        algorithm=signer.row.algorithm,
        headers={"kid": signer.row.kid, "typ": ACCESS_TOKEN_TYPE},
    )
    try:
        credential.pk = record_with(
            results,
            workload=workload,
            credential_jti=credential.jti,
            then=_credential_insert(credential),
        )
        credential._state.adding = False
    except DatabaseError:
        raise ExchangeError(
            "temporarily_unavailable",
            "The credential could not be recorded; nothing was issued. Try again shortly.",
            status=503,
        ) from None
    return Issued(token, credential)
