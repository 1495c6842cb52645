"""When a grant is active and what its scope covers: each rule stated once, here.

"Active" is computed from times, never from the `expired` flag the periodic task maintains,
so an expired or revoked grant stops counting at that very moment. The same rule has three
forms: `grant_active_q` for the ORM, `grant_is_active` for a grant already loaded, and the
SQL of the decision query (decisions.selectors), all checked against one table of cases
(tests/decisions/test_active_rules.py).
"""

from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from django.db.models import Q
from django.utils import timezone

from access.models import Grant


def grant_active_q(at: datetime | None = None) -> Q:
    """Grants active at `at`: started, not expired, not revoked by then."""
    at = at or timezone.now()
    return Q(starts_at__lte=at, expires_at__gt=at) & (
        Q(revoked_at__isnull=True) | Q(revoked_at__gt=at)
    )


def grant_expiring_within_q(hours: int, at: datetime | None = None) -> Q:
    """Grants active at `at` that end within `hours` hours of it."""
    at = at or timezone.now()
    return grant_active_q(at) & Q(expires_at__lte=at + timedelta(hours=hours))


def grant_is_active(grant: Grant, at: datetime | None = None) -> bool:
    """`grant_active_q`, for a grant already loaded."""
    at = at or timezone.now()
    revoked = grant.revoked_at is not None and grant.revoked_at <= at
    return not revoked and grant.starts_at <= at < grant.expires_at


def grant_state(grant: Grant, at: datetime | None = None) -> str:
    """ "active", "revoked" or "expired" (or "scheduled", not started yet), by the times."""
    at = at or timezone.now()
    if grant_is_active(grant, at):
        return "active"
    if grant.revoked_at is not None and grant.revoked_at <= at:
        return "revoked"
    return "scheduled" if at < grant.starts_at else "expired"


def scope_covers(grant_scope: str, requested: str) -> bool:
    """A grant without scope covers every scope; otherwise its scope is an fnmatch-style glob
    (case-sensitive), and a request without a scope is not covered by a scoped grant."""
    return not grant_scope or fnmatchcase(requested or "", grant_scope)
