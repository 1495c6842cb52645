import pytest
from django.contrib.auth.models import Group

from kernel.permissions import ACTION_ROLES, Action, allowed_actions, can, roles_of
from kernel.roles import Role
from tests.portal.factories import make_user

# Expected answers, written out by hand: the matrix the product promises (DESIGN.md, Roles).
EXPECTED = {
    "engineer": {
        Action.VIEW_PORTAL,
        Action.VIEW_INVENTORY,
        Action.VIEW_COMPLIANCE,
        Action.REGISTER_AGENT,
        Action.REQUEST_ACCESS,
        Action.REQUEST_EXCEPTION,
    },
    "security": {
        Action.VIEW_PORTAL,
        Action.VIEW_INVENTORY,
        Action.VIEW_COMPLIANCE,
        Action.REGISTER_AGENT,
        Action.REQUEST_ACCESS,
        Action.REQUEST_EXCEPTION,
        Action.APPROVE,
        Action.MANAGE_POLICY,
        Action.SUSPEND_AGENT,
        Action.REVIEW_ACTIVITY,
        Action.MANAGE_CONTROLS,
        Action.VIEW_AUDIT_TRAIL,
        Action.EXPORT_EVIDENCE,
        Action.CALL_DECISION_API,
        Action.MANAGE_TRUST,
        Action.VIEW_CREDENTIALS,
        Action.INTROSPECT_TOKENS,
        Action.REASSIGN_AGENT,
        Action.MANAGE_DELIVERIES,
    },
    "auditor": {
        Action.VIEW_PORTAL,
        Action.VIEW_INVENTORY,
        Action.VIEW_COMPLIANCE,
        Action.VIEW_AUDIT_TRAIL,
        Action.EXPORT_EVIDENCE,
        Action.VIEW_CREDENTIALS,
    },
    # The gateway reads the inventory (agents, policy) but no portal page of people's work.
    "gateway": {
        Action.VIEW_INVENTORY,
        Action.CALL_DECISION_API,
        Action.REPORT_ACTIVITY,
        Action.INTROSPECT_TOKENS,
    },
    "norole": set(),
}


@pytest.mark.django_db
def test_data_migration_created_the_four_groups_and_roles_decide_through_one_table():
    groups = {g.name: g for g in Group.objects.prefetch_related("permissions")}
    assert {"engineer", "security", "auditor", "gateway"} <= set(groups)
    # What a role may do is answered by kernel.permissions.ACTIONS alone: no second,
    # unconsulted copy in Django model permissions.
    assert all(not group.permissions.exists() for group in groups.values())


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", list(Action))
def test_role_action_matrix(role_users, role, action):
    user = role_users[role]
    assert can(user, action) is (action in EXPECTED[role])


def test_every_action_has_an_answer_for_every_role():
    assert set(ACTION_ROLES) == set(Action)


@pytest.mark.django_db
def test_anonymous_and_inactive_users_can_do_nothing(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    inactive = make_user("gone", Role.SECURITY, is_active=False)
    assert allowed_actions(AnonymousUser()) == frozenset()
    assert allowed_actions(inactive) == frozenset()


@pytest.mark.django_db
def test_superuser_holds_security_and_auditor_powers_but_not_the_gateways():
    admin = make_user("root", is_superuser=True, is_staff=True)
    assert roles_of(admin) == {Role.SECURITY, Role.AUDITOR}
    assert can(admin, Action.APPROVE)
    assert not can(admin, Action.REPORT_ACTIVITY)
