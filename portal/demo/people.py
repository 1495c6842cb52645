"""Demo people and teams. Each app adds its own demo data in its `demo.py`."""

from django.contrib.auth.models import Group, User

from kernel.roles import Role
from registry.models import Agent, Capability, Team

DEMO_USERS: tuple[tuple[str, Role | None, str | None, str], ...] = (
    # username, role, team, full name
    ("alice", Role.ENGINEER, "payments", "Alice Engineer"),
    ("bob", Role.ENGINEER, "platform", "Bob Engineer"),
    ("sam", Role.SECURITY, None, "Sam Security"),
    ("sara", Role.SECURITY, None, "Sara Security"),
    ("audrey", Role.AUDITOR, None, "Audrey Auditor"),
    ("gateway", Role.GATEWAY, None, "Agent Gateway"),
    ("admin", None, None, "Portal Administrator"),
)
DEMO_TEAMS = (
    ("payments", "Payments", "Financial Services"),
    ("platform", "Platform Engineering", "Technology"),
)


def seed_people(password: str) -> list[tuple[str, str]]:
    """Create (or reset) the demo users and teams; returns (username, role) for the logins table."""
    teams = {}
    for slug, name, unit in DEMO_TEAMS:
        teams[slug], _ = Team.objects.update_or_create(
            slug=slug, defaults={"name": name, "business_unit": unit}
        )
    logins = []
    for username, role, team, full_name in DEMO_USERS:
        first, last = full_name.split(" ", 1)
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "first_name": first,
                "last_name": last,
                "email": f"{username}@example.com",
                "is_staff": role is None,
                "is_superuser": role is None,
                "is_active": True,
            },
        )
        user.set_password(password)
        user.save(update_fields=["password"])
        if role is not None:
            user.groups.set([Group.objects.get(name=role.value)])
        if team is not None:
            teams[team].members.add(user)
        logins.append((username, role.value if role else "superuser"))
    return logins


def demo_cast() -> tuple[dict[str, User], dict[str, Agent], dict[str, Capability]]:
    """The demo's requesters and approvers, agents and capabilities, by username, slug and key:
    what the demo requests and exceptions are made of."""
    users = {
        u.username: u for u in User.objects.filter(username__in=["alice", "bob", "sam", "sara"])
    }
    agents = {a.slug: a for a in Agent.objects.all()}
    caps = {c.key: c for c in Capability.objects.all()}
    return users, agents, caps
