"""From IdP groups to the portal's roles and teams: the one mapping OIDC and SCIM share.

OIDC_ROLE_GROUPS maps each role to IdP groups (`security=gov-security,auditor=gov-auditors`;
a role may be named more than once); a group starting with OIDC_TEAM_GROUP_PREFIX (`team-`)
makes its members members of the team whose slug follows (`team-payments` → `payments`).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from kernel.roles import Role

# The IdP speaks for people: it may give the human roles, never the gateway's (a machine
# identity, created by hand).
MAPPABLE_ROLES = (Role.ENGINEER, Role.SECURITY, Role.AUDITOR)


def role_groups() -> dict[str, set[Role]]:
    """IdP group name → the roles it gives."""
    mapping: dict[str, set[Role]] = {}
    for pair in settings.OIDC_ROLE_GROUPS:
        role, sep, group = pair.partition("=")
        role, group = role.strip(), group.strip()
        if not sep or not group or role not in MAPPABLE_ROLES:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_GROUPS: '{pair}' is not role=group with a role among "
                f"{', '.join(MAPPABLE_ROLES)}."
            )
        mapping.setdefault(group, set()).add(Role(role))
    return mapping


@dataclass(frozen=True)
class Memberships:
    roles: frozenset[Role]
    teams: frozenset[str]


def memberships_for(groups: Iterable[str]) -> Memberships:
    roles_by_group = role_groups()
    prefix = settings.OIDC_TEAM_GROUP_PREFIX
    roles: set[Role] = set()
    teams: set[str] = set()
    for group in groups:
        roles |= roles_by_group.get(group, set())
        if prefix and group.startswith(prefix) and len(group) > len(prefix):
            teams.add(group[len(prefix) :])
    return Memberships(frozenset(roles), frozenset(teams))
