"""What the audit trail must hold: role and flag changes with their actor, team membership,
rows written in bulk, the remote address of token calls, and a deleted actor's name."""

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import Group, User
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from decisions.models import Activity
from registry.models import PolicyVersion
from registry.services.policy import policy_draft_create
from tests.portal.factories import make_user
from tests.registry.factories import AgentFactory, TeamFactory, demo_policy

pytestmark = pytest.mark.django_db


def _entries(obj):
    return LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)
    ).order_by("pk")


def _admin_change(client, user, **overrides):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
        "groups": [group.pk for group in user.groups.all()],
    }
    data.update(overrides)
    data = {key: value for key, value in data.items() if value is not None}
    return client.post(f"/admin/auth/user/{user.pk}/change/", data)


@pytest.fixture
def root(db):
    return User.objects.create_superuser("root", "root@example.com", "a-long-root-passphrase")


def test_admin_adding_a_user_to_security_is_audited_with_the_actor(client, root):
    bob = make_user("bob")
    client.force_login(root)
    security = Group.objects.get(name="security")
    response = _admin_change(client, bob, groups=[security.pk])
    assert response.status_code == 302, response.content[:2000]
    entry = _entries(bob).filter(changes__has_key="groups").get()
    assert entry.actor == root
    assert "security" in str(entry.changes["groups"])


def test_the_superuser_and_staff_flags_are_audited(client, root):
    bob = make_user("bob")
    client.force_login(root)
    assert _admin_change(client, bob, is_superuser="on", is_staff="on").status_code == 302
    entry = _entries(bob).filter(action=LogEntry.Action.UPDATE).last()
    assert entry.actor == root
    assert set(entry.changes) >= {"is_superuser", "is_staff"}


def test_deactivation_is_audited(client, root):
    bob = make_user("bob")
    client.force_login(root)
    assert _admin_change(client, bob, is_active=None).status_code == 302
    assert "is_active" in _entries(bob).last().changes


def test_team_membership_changes_are_audited_with_the_actor(api, security, engineer):
    team = TeamFactory(slug="payments", members=[])
    response = api.as_user(security).patch(
        "/api/v1/teams/payments/", {"members": ["eve"]}, format="json"
    )
    assert response.status_code == 200, response.json()
    entry = _entries(team).filter(changes__has_key="members").get()
    assert entry.actor == security
    assert entry.remote_addr == "127.0.0.1"


def test_a_deleted_actors_username_stays_in_the_trail(api, client, root, auditor):
    bob = make_user("bob")
    temp = User.objects.create_superuser("temp-admin", "", "a-long-temp-passphrase")
    client.force_login(temp)
    security = Group.objects.get(name="security")
    assert _admin_change(client, bob, groups=[security.pk]).status_code == 302
    temp.delete()
    events = api.as_user(auditor).get("/api/v1/audit-events/", {"object_type": "auth.user"})
    actors = {event["actor"] for event in events.json()["results"]}
    assert "temp-admin" in actors
    by_actor = api.get("/api/v1/audit-events/", {"actor": "temp-admin"}).json()["results"]
    assert by_actor


def test_a_reported_activity_batch_is_audited(api, gateway, engineer, security):
    TeamFactory(slug="payments", members=[engineer])
    demo_policy(security)
    AgentFactory(slug="pay-bot", owner=engineer, tier="production")
    now = timezone.now().isoformat()
    batch = [
        {"agent": "pay-bot", "capability": "github:read", "outcome": "success", "occurred_at": now}
        for _ in range(3)
    ]
    response = api.as_user(gateway).post("/api/v1/activity/", batch, format="json")
    assert response.status_code == 201, response.json()
    entries = LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Activity))
    entry = entries.get()
    assert entry.actor == gateway
    assert entry.remote_addr == "127.0.0.1"
    assert "3 reported by gw" in entry.changes["batch"][1]


def test_copying_the_rules_into_a_new_draft_is_audited(security):
    published = demo_policy(security)
    draft = policy_draft_create(actor=security, notes="next")
    assert isinstance(draft, PolicyVersion)
    entry = _entries(draft).get(action=LogEntry.Action.UPDATE)
    assert entry.actor == security
    copied = draft.rules.count()
    assert copied == published.rules.count() > 0
    assert entry.changes["rules"][1] == f"{copied} rules copied from v{published.number}"
