"""The one place that answers "may this user do X" at the level of roles.

Views (HTML and API), admin hooks and services all ask `can(user, Action.X)`. Rules about a
particular object (own agent, own request, separation of duties) live in each app's
`permissions.py` and build on these functions.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import AnonymousUser, User

from kernel.errors import Forbidden
from kernel.roles import Role

AnyUser = User | AnonymousUser


class Action(StrEnum):
    VIEW_PORTAL = "view_portal"  # the dashboard, access requests, grants and exceptions
    VIEW_INVENTORY = "view_inventory"  # agents, teams, tools, capabilities and the policy
    VIEW_COMPLIANCE = "view_compliance"  # frameworks, controls, mappings, evidence metadata
    REGISTER_AGENT = "register_agent"
    REQUEST_ACCESS = "request_access"
    REQUEST_EXCEPTION = "request_exception"
    APPROVE = "approve"  # approve/deny/revoke requests, grants and exceptions
    MANAGE_POLICY = "manage_policy"  # tiers, tools, capabilities, policy versions
    SUSPEND_AGENT = "suspend_agent"
    REASSIGN_AGENT = "reassign_agent"  # give an agent a new owner (e.g. its owner left)
    REVIEW_ACTIVITY = "review_activity"
    MANAGE_CONTROLS = "manage_controls"
    VIEW_AUDIT_TRAIL = "view_audit_trail"
    EXPORT_EVIDENCE = "export_evidence"
    CALL_DECISION_API = "call_decision_api"
    REPORT_ACTIVITY = "report_activity"
    MANAGE_TRUST = "manage_trust"  # trust providers and the portal's signing keys
    VIEW_CREDENTIALS = "view_credentials"  # what was issued (never the tokens)
    INTROSPECT_TOKENS = "introspect_tokens"
    MANAGE_DELIVERIES = "manage_deliveries"  # notices and builds not delivered yet: see, retry


HUMAN_ROLES = frozenset({Role.ENGINEER, Role.SECURITY, Role.AUDITOR})


@dataclass(frozen=True)
class Rule:
    """Who may take an action, and what everyone else is told (the one refusal text)."""

    roles: frozenset[Role]
    refusal: str


ACTIONS: dict[Action, Rule] = {
    Action.VIEW_PORTAL: Rule(HUMAN_ROLES, "Your role does not use the portal's pages."),
    # The inventory is not secret: every human role reads it; the gateway reads agents too.
    Action.VIEW_INVENTORY: Rule(
        HUMAN_ROLES | {Role.GATEWAY}, "Your role may not read the agent inventory or the policy."
    ),
    Action.VIEW_COMPLIANCE: Rule(HUMAN_ROLES, "Your role may not read compliance data."),
    Action.REGISTER_AGENT: Rule(
        frozenset({Role.ENGINEER, Role.SECURITY}),
        "Only engineers and security register and change agents.",
    ),
    Action.REQUEST_ACCESS: Rule(
        frozenset({Role.ENGINEER, Role.SECURITY}), "Only engineers and security request access."
    ),
    Action.REQUEST_EXCEPTION: Rule(
        frozenset({Role.ENGINEER, Role.SECURITY}),
        "Only engineers and security request policy exceptions.",
    ),
    Action.APPROVE: Rule(
        frozenset({Role.SECURITY}),
        "Only security approves, denies and revokes access requests, grants, exceptions and "
        "identity bindings.",
    ),
    Action.MANAGE_POLICY: Rule(
        frozenset({Role.SECURITY}),
        "Only security manages the policy, tiers, teams, tools and capabilities.",
    ),
    Action.SUSPEND_AGENT: Rule(
        frozenset({Role.SECURITY}), "Only security suspends and reactivates agents."
    ),
    Action.REASSIGN_AGENT: Rule(
        frozenset({Role.SECURITY}), "Only security reassigns an agent's owner."
    ),
    Action.REVIEW_ACTIVITY: Rule(
        frozenset({Role.SECURITY}), "Only security reviews flagged agent activity."
    ),
    Action.MANAGE_CONTROLS: Rule(
        frozenset({Role.SECURITY}),
        "Only security edits controls and their mappings, marks framework items not "
        "applicable, or uploads evidence.",
    ),
    Action.VIEW_AUDIT_TRAIL: Rule(
        frozenset({Role.SECURITY, Role.AUDITOR}),
        "Only security and auditors read the audit trail and the decision log.",
    ),
    Action.EXPORT_EVIDENCE: Rule(
        frozenset({Role.SECURITY, Role.AUDITOR}),
        "Only security and auditors export reports, evidence files and evidence packages.",
    ),
    Action.CALL_DECISION_API: Rule(
        frozenset({Role.GATEWAY, Role.SECURITY}), "Only gateways and security ask for decisions."
    ),
    Action.REPORT_ACTIVITY: Rule(frozenset({Role.GATEWAY}), "Only gateways report agent activity."),
    Action.MANAGE_TRUST: Rule(
        frozenset({Role.SECURITY}), "Only security manages trust providers and signing keys."
    ),
    Action.VIEW_CREDENTIALS: Rule(
        frozenset({Role.SECURITY, Role.AUDITOR}),
        "Only security and auditors read the credentials the portal issued.",
    ),
    Action.INTROSPECT_TOKENS: Rule(
        frozenset({Role.GATEWAY, Role.SECURITY}), "Only gateways and security introspect tokens."
    ),
    Action.MANAGE_DELIVERIES: Rule(
        frozenset({Role.SECURITY}),
        "Only security sees and retries the notices and builds the portal has not delivered.",
    ),
}
ACTION_ROLES: dict[Action, frozenset[Role]] = {
    action: rule.roles for action, rule in ACTIONS.items()
}

# Superusers administer: they hold security's and the auditor's powers (never the gateway's,
# which is a machine identity). Separation-of-duties rules still apply to them as people.
SUPERUSER_ROLES = frozenset({Role.SECURITY, Role.AUDITOR})


# Set through setattr (not a declared field): request.user may be a lazy proxy of the user.
_ROLES_CACHE = "_portal_roles"


def roles_of(user: AnyUser) -> frozenset[Role]:
    """The user's roles, read once per user object (cached on it)."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached: frozenset[Role] | None = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        known = {role.value for role in Role}
        names = {name for name in user.groups.values_list("name", flat=True) if name in known}
        cached = frozenset(Role(name) for name in names)
        if user.is_superuser:
            cached = cached | SUPERUSER_ROLES
        prime_roles(user, cached)
    return cached


def prime_roles(user: User, roles: frozenset[Role]) -> None:
    """Cache the user's roles on the user object (read alongside the user, or just now)."""
    setattr(user, _ROLES_CACHE, roles)


def can(user: AnyUser, action: Action) -> bool:
    return bool(roles_of(user) & ACTIONS[action].roles)


def can_any(user: AnyUser, *actions: Action) -> bool:
    return any(can(user, action) for action in actions)


def refusal(*actions: Action) -> str:
    """The refusal text for a caller who may take none of `actions` (the first one's)."""
    return ACTIONS[actions[0]].refusal


def require(user: AnyUser, *actions: Action) -> None:
    """Raise Forbidden with the action's refusal unless the user may take one of `actions`."""
    if not can_any(user, *actions):
        raise Forbidden(refusal(*actions), code="forbidden_role")


def allowed_actions(user: AnyUser) -> frozenset[Action]:
    mine = roles_of(user)
    return frozenset(action for action, roles in ACTION_ROLES.items() if mine & roles)
