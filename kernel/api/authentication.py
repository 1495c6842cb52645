"""Token authentication that reads the user and their roles in one query.

DRF's TokenAuthentication loads the token and user, and the role check then loads the
user's groups: two ORM round trips on every API call, including every decision a gateway
asks for. This reads both in one prepared statement and primes `kernel.permissions.roles_of`.
"""

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from kernel.permissions import SUPERUSER_ROLES, prime_roles
from kernel.roles import Role

_ROLES = {role.value: role for role in Role}

TOKEN_EXPIRED = "Token expired: ask for a new one at /api/v1/auth/token/."  # noqa: S105


def token_cutoff() -> datetime:
    """Tokens created at or before this moment have expired (API_TOKEN_TTL_HOURS)."""
    return timezone.now() - _hours(settings.API_TOKEN_TTL_HOURS)


@cache
def _hours(hours: int) -> timedelta:
    return timedelta(hours=hours)


def token_cutoff_param() -> Any:
    """`token_cutoff()` as a query parameter for raw SQL comparing with the token's created:
    what `created`'s get_db_prep_value makes of an aware datetime, without the field's
    checks (this runs on every decision a gateway asks for)."""
    return connection.ops.adapt_datetimefield_value(token_cutoff())


def token_expired(token: Token) -> bool:
    return token.created <= token_cutoff()


@cache
def _sql(vendor: str) -> tuple[str, list[str]]:
    quote = connection.ops.quote_name
    # A concrete field is one with a column (Django's own definition), so this loses none.
    columns = [field.column for field in User._meta.concrete_fields if field.column is not None]
    memberships = quote(User.groups.through._meta.db_table)
    select = ", ".join(f"u.{quote(column)}" for column in columns)
    # The token's freshness is compared in the same query: expiry costs no round trip.
    sql = (
        f"SELECT {select}, CASE WHEN t.{quote('created')} > %s THEN 1 ELSE 0 END, "
        f"g.{quote('name')} FROM {quote(Token._meta.db_table)} t "
        f"INNER JOIN {quote(User._meta.db_table)} u ON u.id = t.user_id "
        f"LEFT JOIN {memberships} ug ON ug.user_id = u.id "
        f"LEFT JOIN {quote(Group._meta.db_table)} g ON g.id = ug.group_id "
        "WHERE t.{key} = %s".format(key=quote("key"))
    )
    return sql, [field.attname for field in User._meta.concrete_fields]


def with_roles(user: User, group_names: set[str]) -> User:
    """Prime `kernel.permissions.roles_of` with the roles read alongside the user."""
    roles = frozenset(_ROLES[name] for name in group_names if name in _ROLES)
    prime_roles(user, roles | SUPERUSER_ROLES if user.is_superuser else roles)
    return user


class TokenWithRolesAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str):
        sql, attnames = _sql(connection.vendor)
        with connection.cursor() as cursor:
            cursor.execute(sql, [token_cutoff_param(), key])
            rows = cursor.fetchall()
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user = User.from_db("default", attnames, rows[0][:-2])
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not rows[0][-2]:
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED)
        return with_roles(user, {row[-1] for row in rows if row[-1]}), key
