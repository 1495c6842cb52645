"""The HTTP side of the scale benchmark's data (run inside its worker, bench/scale_worker.py).

A catalogue of 500 capabilities (the demo's 6 and 494 more, ten actions a tool), a published
policy with a rule for every capability in every tier (40% standing allow, 30% just-in-time,
20% approval, 10% deny), 1,000 agents with 10,000 grants in force over the catalogue, and the
agent whose effective access is asked: 60 grants in force (10 of them scoped) and 5 active
exceptions. Decisions are asked about random (agent, capability) pairs of that catalogue.
"""

import random
from datetime import timedelta

EFFECTIVE_AGENT = "hbench-00001"
_EFFECTS = (("allow", None),) * 4 + (("jit", 8),) * 3 + (("approval", 8),) * 2 + (("deny", None),)


def prepare(*, capabilities: int, agents: int, asks: int) -> dict:
    """Migrate, seed the demo, then the catalogue, policy, agents and grants; the gateway's
    token, the asks and the agent whose effective access is measured."""
    import os

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from bench.population import bench_agents
    from registry.models import Agent, Capability

    call_command("migrate", verbosity=0)
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", verbosity=0, stdout=quiet)
    rng = random.Random(500)
    now = timezone.now()
    _catalogue(capabilities)
    _policy(rng)
    bench_agents("hbench", agents, rng=rng, now=now)
    _grants_and_exceptions(rng, now)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    gateway = User.objects.get(username="gateway")
    slugs = list(Agent.objects.filter(slug__startswith="hbench-").values_list("slug", flat=True))
    keys = list(Capability.objects.values_list("key", flat=True))
    return {
        "token": Token.objects.get_or_create(user=gateway)[0].key,
        "asks": [(rng.choice(slugs), rng.choice(keys)) for _ in range(asks)],
        "effective_agent": EFFECTIVE_AGENT,
        "capabilities": len(keys),
    }


def _catalogue(size: int) -> None:
    from registry.models import Capability, Tool

    missing = size - Capability.objects.count()
    tools = Tool.objects.bulk_create(
        [
            Tool(slug=f"bench-tool-{i:02d}", name=f"Bench tool {i}", category="code")
            for i in range((missing + 9) // 10)
        ]
    )
    Capability.objects.bulk_create(
        [
            Capability(
                tool=tools[i // 10],
                action=f"action-{i % 10}",
                key=f"{tools[i // 10].slug}:action-{i % 10}",
                high_risk=i % 7 == 0,
            )
            for i in range(missing)
        ]
    )


def _policy(rng: random.Random) -> None:
    """Publish, through the policy services as security would, a rule for every capability."""
    from django.contrib.auth.models import User

    from registry.models import Capability
    from registry.policy_file import PolicyDocument
    from registry.services.policy import policy_draft_import, policy_publish

    sam = User.objects.get(username="sam")
    keys = sorted(Capability.objects.values_list("key", flat=True))
    rules = {
        (tier, key): rng.choice(_EFFECTS)
        for tier in ("sandbox", "internal", "production")
        for key in keys
    }
    document = PolicyDocument(comment="The scale benchmark's catalogue.", rules=rules)
    draft = policy_draft_import(actor=sam, document=document, source="the scale benchmark")
    policy_publish(actor=sam, version=draft, reason="Benchmark catalogue of every capability.")


def _grants_and_exceptions(rng: random.Random, now) -> None:
    from django.contrib.auth.models import User

    from access.models import Grant
    from exceptions.models import PolicyException
    from registry.models import Agent, Capability

    agents = list(Agent.objects.filter(slug__startswith="hbench-").values_list("pk", flat=True))
    capabilities = list(Capability.objects.values_list("pk", flat=True))
    starts, ends = now - timedelta(hours=1), now + timedelta(days=7)

    def grant(agent: int, capability: int, scope: str = "") -> Grant:
        return Grant(agent_id=agent, capability_id=capability, scope=scope, starts_at=starts,
                     expires_at=ends)  # fmt: skip

    Grant.objects.bulk_create(
        [grant(rng.choice(agents), rng.choice(capabilities)) for _ in range(10_000)]
    )
    agent = Agent.objects.get(slug=EFFECTIVE_AGENT).pk
    picked = rng.sample(capabilities, 65)
    Grant.objects.bulk_create(
        [grant(agent, c, "acme/repo-*" if i < 10 else "") for i, c in enumerate(picked[:60])]
    )
    alice = User.objects.get(username="alice")
    PolicyException.objects.bulk_create(
        [
            PolicyException(
                title=f"bench exception {i}",
                agent_id=agent,
                capability_id=capability,
                justification="bench",
                risk="low",
                requested_by=alice,
                status="active",
                starts_at=starts,
                expires_at=ends,
            )
            for i, capability in enumerate(picked[60:])
        ]
    )
