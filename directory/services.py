"""Keeping people in line with the IdP: roles and teams from groups, and leavers.

The IdP is the source of truth for the people it manages: on every OIDC sign-in and every
SCIM change, the person's roles (the human role groups) and team memberships are set from
their IdP groups, no more and no less. Every change is in the audit trail with the IdP as its
source (kernel.audit.audit_source).
"""

from collections.abc import Iterable

from django.contrib.auth.models import Group, User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from directory.mapping import MAPPABLE_ROLES, memberships_for
from directory.models import DirectoryAccount
from kernel.audit import audit_source
from registry.models import Team
from registry.models.inventory import slug_validator

OIDC_SOURCE = "IdP (OpenID Connect)"
SCIM_SOURCE = "IdP (SCIM)"


def account_of(user: User) -> DirectoryAccount:
    account, _ = DirectoryAccount.objects.get_or_create(user=user)
    return account


@transaction.atomic
def sync_memberships(user: User, groups: Iterable[str], *, source: str) -> None:
    """Set the user's roles and teams from their IdP groups (and remember the groups)."""
    names = sorted({str(group) for group in groups})
    wanted = memberships_for(names)
    with audit_source(source):
        role_groups = {group.name: group for group in Group.objects.filter(name__in=MAPPABLE_ROLES)}
        held = set(user.groups.filter(name__in=MAPPABLE_ROLES).values_list("name", flat=True))
        give = [role_groups[r] for r in wanted.roles if r in role_groups and r not in held]
        take = [role_groups[r] for r in held - set(wanted.roles) if r in role_groups]
        if give:
            user.groups.add(*give)
        if take:
            user.groups.remove(*take)
        _sync_teams(user, wanted.teams)
        account = account_of(user)
        account.last_groups = names
        account.last_synced_at = timezone.now()
        account.save(update_fields=["last_groups", "last_synced_at"])
    # Roles are cached on the user object (kernel.permissions): forget them.
    user.__dict__.pop("_portal_roles", None)


def _sync_teams(user: User, slugs: frozenset[str]) -> None:
    current = set(Team.objects.filter(members=user).values_list("slug", flat=True))
    for slug in sorted(slugs - current):
        try:
            slug_validator(slug)
        except ValidationError:
            continue  # an IdP group name that cannot be a team slug: not a team
        team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": slug.title()})
        team.members.add(user)
    for team in Team.objects.filter(members=user, slug__in=current - slugs):
        team.members.remove(user)


@transaction.atomic
def deprovision(user: User, *, source: str, delete: bool = False) -> None:
    """The IdP says this person left: deactivate (sessions and tokens end, their pending
    requests and exceptions are cancelled, their agents orphaned; see kernel.accounts). The
    row stays so the audit trail keeps who did what."""
    with audit_source(source):
        if user.is_active:
            user.is_active = False
            user.save(update_fields=["is_active"])
        account = account_of(user)
        now = timezone.now()
        account.deprovisioned_at = account.deprovisioned_at or now
        if delete:
            account.deleted_at = account.deleted_at or now
        account.save(update_fields=["deprovisioned_at", "deleted_at"])
