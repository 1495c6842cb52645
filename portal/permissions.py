"""The one place that answers "may this user do X" at the level of roles.

Views (HTML and API), admin hooks and services all ask `can(user, Action.X)`. Rules about a
particular object (own agent, own request, separation of duties) live in each app's
`permissions.py` and build on these functions.
"""

from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User

from portal.roles import Role

AnyUser = User | AnonymousUser


class Action(StrEnum):
    VIEW_PORTAL = "view_portal"  # read the inventory, policy, requests, exceptions
    REGISTER_AGENT = "register_agent"
    REQUEST_ACCESS = "request_access"
    REQUEST_EXCEPTION = "request_exception"
    APPROVE = "approve"  # approve/deny/revoke requests, grants and exceptions
    MANAGE_POLICY = "manage_policy"  # tiers, tools, capabilities, policy versions
    SUSPEND_AGENT = "suspend_agent"
    REVIEW_ACTIVITY = "review_activity"
    MANAGE_CONTROLS = "manage_controls"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    EXPORT_EVIDENCE = "export_evidence"
    CALL_DECISION_API = "call_decision_api"
    REPORT_ACTIVITY = "report_activity"


HUMAN_ROLES = frozenset({Role.ENGINEER, Role.SECURITY, Role.AUDITOR})

ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.VIEW_PORTAL: HUMAN_ROLES,
    Action.REGISTER_AGENT: frozenset({Role.ENGINEER, Role.SECURITY}),
    Action.REQUEST_ACCESS: frozenset({Role.ENGINEER, Role.SECURITY}),
    Action.REQUEST_EXCEPTION: frozenset({Role.ENGINEER, Role.SECURITY}),
    Action.APPROVE: frozenset({Role.SECURITY}),
    Action.MANAGE_POLICY: frozenset({Role.SECURITY}),
    Action.SUSPEND_AGENT: frozenset({Role.SECURITY}),
    Action.REVIEW_ACTIVITY: frozenset({Role.SECURITY}),
    Action.MANAGE_CONTROLS: frozenset({Role.SECURITY}),
    Action.VIEW_AUDIT_TRAIL: frozenset({Role.SECURITY, Role.AUDITOR}),
    Action.EXPORT_EVIDENCE: frozenset({Role.SECURITY, Role.AUDITOR}),
    Action.CALL_DECISION_API: frozenset({Role.GATEWAY, Role.SECURITY}),
    Action.REPORT_ACTIVITY: frozenset({Role.GATEWAY}),
}

# Superusers administer: they hold security's and the auditor's powers (never the gateway's,
# which is a machine identity). Separation-of-duties rules still apply to them as people.
SUPERUSER_ROLES = frozenset({Role.SECURITY, Role.AUDITOR})


def roles_of(user: AnyUser) -> frozenset[Role]:
    """The user's roles, read once per user object (cached on it)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_portal_roles", None)
    if cached is None:
        known = {role.value for role in Role}
        names = {name for name in user.groups.values_list("name", flat=True) if name in known}
        cached = frozenset(Role(name) for name in names)
        if user.is_superuser:
            cached = cached | SUPERUSER_ROLES
        user._portal_roles = cached
    return cached


def has_role(user: AnyUser, *roles: Role) -> bool:
    return bool(roles_of(user) & set(roles))


def can(user: AnyUser, action: Action) -> bool:
    return bool(roles_of(user) & ACTION_ROLES[action])


def allowed_actions(user: AnyUser) -> frozenset[Action]:
    mine = roles_of(user)
    return frozenset(action for action, roles in ACTION_ROLES.items() if mine & roles)
