"""Demo tools, capabilities, agents and policy v1 (one rule per tier and capability)."""

from django.contrib.auth.models import User
from django.utils import timezone

from registry.models import Agent, Capability, PolicyVersion, Team, Tool
from registry.policy_file import PolicyDocument
from registry.services.policy import policy_draft_import, policy_publish

TOOLS = (
    ("github", "GitHub", "code", (("read", False), ("write", False), ("merge", True))),
    ("jira", "Jira", "ticketing", (("write", False),)),
    ("deploy", "Deploy pipeline", "ci_cd", (("release", True),)),
    ("vault", "Vault", "secrets", (("read_secret", True),)),
)

AGENTS = (
    # slug, name, tier, owner, team, vendor, repositories
    (
        "payments-fixer",
        "Payments fixer",
        "production",
        "alice",
        "payments",
        "claude-code",
        ["acme/payments-api", "acme/ledger"],
    ),
    ("docs-helper", "Docs helper", "sandbox", "alice", "payments", "claude-code", ["acme/docs"]),
    ("ci-bot", "CI bot", "internal", "bob", "platform", "codex", ["acme/ci-config"]),
)

# tier -> capability -> (effect, max hours)
POLICY_V1 = {
    "sandbox": {
        "github:read": ("allow", None),
        "github:write": ("jit", 8),
        "github:merge": ("approval", 8),
        "jira:write": ("allow", None),
        "deploy:release": ("deny", None),
        "vault:read_secret": ("deny", None),
    },
    "internal": {
        "github:read": ("allow", None),
        "github:write": ("jit", 8),
        "github:merge": ("approval", 8),
        "jira:write": ("jit", 24),
        "deploy:release": ("approval", 4),
        "vault:read_secret": ("approval", 1),
    },
    "production": {
        "github:read": ("jit", 24),
        "github:write": ("approval", 8),
        "github:merge": ("approval", 4),
        "jira:write": ("jit", 24),
        "deploy:release": ("approval", 2),
        "vault:read_secret": ("deny", None),
    },
}


def seed_registry() -> None:
    for slug, name, category, actions in TOOLS:
        tool, _ = Tool.objects.update_or_create(
            slug=slug, defaults={"name": name, "category": category}
        )
        for action, high_risk in actions:
            Capability.objects.update_or_create(
                tool=tool,
                action=action,
                defaults={"key": f"{slug}:{action}", "high_risk": high_risk},
            )
    users = {
        user.username: user for user in User.objects.filter(username__in=["alice", "bob", "sam"])
    }
    teams = {team.slug: team for team in Team.objects.all()}
    for slug, name, tier, owner, team, vendor, repositories in AGENTS:
        Agent.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "tier": tier,
                "owner": users[owner],
                "team": teams[team],
                "vendor": vendor,
                "repositories": repositories,
                "workload_identity": f"spiffe://acme.example/agents/{slug}",
                "last_attested_at": timezone.now(),
            },
        )
    if not PolicyVersion.objects.filter(number=1).exists():
        # Through the policy services, as security would: a file's rules opened as a draft,
        # then published (everything loosens against nothing published: a reason says why).
        document = PolicyDocument(
            comment="Initial tier policy.",
            rules={
                (tier, key): rule
                for tier, rules in POLICY_V1.items()
                for key, rule in rules.items()
            },
        )
        draft = policy_draft_import(actor=users["sam"], document=document, source="the demo")
        policy_publish(actor=users["sam"], version=draft, reason="The demo's first policy.")
