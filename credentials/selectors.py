"""Reads of trust providers, bindings, issued credentials and refused exchanges."""

from collections.abc import Mapping
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import JSONField, Model, QuerySet

from approvals.selectors import awaiting_approval_by
from credentials.filters import CredentialFilter
from credentials.models import (
    BindingStatus,
    IdentityBinding,
    IssuedCredential,
    RefusedExchange,
    TrustProvider,
)
from credentials.permissions import bindings_visible_to
from credentials.rules import bindings_overlap
from kernel.errors import NotFound
from kernel.filtering import filtered
from kernel.permissions import AnyUser
from registry.models import Agent

LIVE_BINDING_STATUSES = (BindingStatus.PENDING, BindingStatus.ACTIVE)


def provider_list() -> QuerySet[TrustProvider]:
    return TrustProvider.objects.order_by("slug")


def provider_get(slug: str) -> TrustProvider:
    try:
        return TrustProvider.objects.get(slug=slug)
    except TrustProvider.DoesNotExist:
        raise NotFound(f"No trust provider '{slug}'.") from None


def bindings_of(agent: Agent) -> QuerySet[IdentityBinding]:
    """The agent's live bindings (pending and active), oldest first."""
    return (
        agent.identity_bindings.filter(status__in=LIVE_BINDING_STATUSES)
        .select_related("provider", "requested_by")
        .prefetch_related("approvals")
        .order_by("id")
    )


def live_bindings_of_subject(provider_id: int, subject: str) -> QuerySet[IdentityBinding]:
    """The live bindings (pending and active) of this provider and subject, oldest first,
    with their agent."""
    return (
        IdentityBinding.objects.filter(
            provider_id=provider_id, subject=subject, status__in=LIVE_BINDING_STATUSES
        )
        .select_related("agent")
        .order_by("id")
    )


def overlapping_binding(binding: IdentityBinding) -> IdentityBinding | None:
    """Another agent's live binding that a token could match along with `binding`
    (credentials.rules.bindings_overlap), or None. While there is one, `binding` does not
    become active: every exchange with such a token would be refused."""
    for other in live_bindings_of_subject(binding.provider_id, binding.subject):
        if other.agent_id != binding.agent_id and bindings_overlap(binding.claims, other.claims):
            return other
    return None


def binding_get_for_user(user: AnyUser, agent: Agent, pk: object) -> IdentityBinding:
    try:
        return (
            bindings_visible_to(user)
            .select_related("agent", "agent__team", "provider")
            .get(agent=agent, pk=int(str(pk)))
        )
    except (IdentityBinding.DoesNotExist, ValueError):
        raise NotFound(f"No identity binding #{pk} on agent '{agent.slug}'.") from None


def bindings_awaiting(user: AnyUser) -> QuerySet[IdentityBinding]:
    return (
        awaiting_approval_by(user, IdentityBinding.objects.all())
        .select_related("agent", "provider", "requested_by")
        .prefetch_related("approvals")
    )


def credential_list(*, filters: Mapping[str, str] | None = None) -> QuerySet[IssuedCredential]:
    rows = IssuedCredential.objects.select_related("agent", "provider", "signing_key")
    return filtered(CredentialFilter, rows.order_by("-issued_at", "-id"), filters)


def credentials_of(agent: Agent, limit: int) -> list[IssuedCredential]:
    return list(agent.credentials.select_related("provider").order_by("-issued_at", "-id")[:limit])


def refused_exchanges(limit: int) -> list[RefusedExchange]:
    return list(RefusedExchange.objects.select_related("provider", "agent")[:limit])


# The exchange's one read of who a token may be (raw SQL, prepared: it is on every exchange's
# path, like the decision query). Only quoted table and column names are interpolated.
_BINDING_COLUMNS = ("id", "subject", "claims", "status", "provider_id", "agent_id")
_PROVIDER_COLUMNS = (
    "id",
    "slug",
    "issuer",
    "jwks_uri",
    "jwks",
    "audience",
    "algorithms",
    "max_token_age_seconds",
)
_AGENT_COLUMNS = ("id", "slug", "status", "tier", "owner_id", "team_id")


@cache
def _candidates_sql(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        f"{alias}.{quote(name)}"
        for alias, names in (
            ("b", _BINDING_COLUMNS),
            ("p", _PROVIDER_COLUMNS),
            ("a", _AGENT_COLUMNS),
        )
        for name in names
    )
    return (
        f"SELECT {columns} FROM {quote(IdentityBinding._meta.db_table)} b "
        f"INNER JOIN {quote(TrustProvider._meta.db_table)} p ON p.id = b.provider_id "
        f"INNER JOIN {quote(Agent._meta.db_table)} a ON a.id = b.agent_id "
        "WHERE p.issuer = %s AND b.subject = %s AND b.status IN (%s, %s) ORDER BY b.id"
    )


@cache
def _layout(model: type[Model], names: tuple[str, ...]) -> tuple[list[int], list[str], set[int]]:
    """For columns `names` of `model`: their order among its concrete fields, the attribute
    names in that order, and which (by new position) hold JSON."""
    fields = {field.attname: (i, field) for i, field in enumerate(model._meta.concrete_fields)}
    order = sorted(range(len(names)), key=lambda k: fields[names[k]][0])
    json_at = {i for i, k in enumerate(order) if isinstance(fields[names[k]][1], JSONField)}
    return order, [names[k] for k in order], json_at


def _instance(model: type[Model], names: tuple[str, ...], values: tuple[Any, ...]) -> Any:
    """A model instance from some of its columns (the others deferred), JSON decoded."""
    order, attnames, json_at = _layout(model, names)
    converted = [values[k] for k in order]
    for i in json_at:
        if converted[i] is not None:
            field = model._meta.get_field(attnames[i])
            converted[i] = field.from_db_value(converted[i], None, connection)  # type: ignore[union-attr]
    return model.from_db(connection.alias, attnames, converted)


def exchange_candidates(issuer: str, subject: str) -> list[IdentityBinding]:
    """The live bindings for this issuer and subject, each with its provider and agent loaded,
    in one round trip."""
    with connection.cursor() as cursor:
        cursor.execute(
            _candidates_sql(connection.vendor),
            [issuer, subject, *LIVE_BINDING_STATUSES],
        )
        rows = cursor.fetchall()
    bindings = []
    split = (len(_BINDING_COLUMNS), len(_BINDING_COLUMNS) + len(_PROVIDER_COLUMNS))
    for row in rows:
        binding = _instance(IdentityBinding, _BINDING_COLUMNS, row[: split[0]])
        binding.provider = _instance(TrustProvider, _PROVIDER_COLUMNS, row[split[0] : split[1]])
        binding.agent = _instance(Agent, _AGENT_COLUMNS, row[split[1] :])
        bindings.append(binding)
    return bindings
