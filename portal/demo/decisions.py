"""Demo decisions: what the gateway asked over the last 30 days, so the decision log, the
dashboard's charts, the audit report and a draft's impact (the log replayed against it) have
something to show."""

import random
from datetime import timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from decisions.models import Decision
from decisions.services.log import decide_and_record
from registry.models import Agent, AgentStatus, Capability

DAYS = 30


def seed_decisions() -> None:
    if Decision.objects.exists():
        return  # idempotent: the demo log is written once
    gateway = User.objects.get(username="gateway")
    capabilities = list(Capability.objects.order_by("key").values_list("key", flat=True))
    asks = [
        (agent.slug, key, scope)
        for agent in Agent.objects.filter(status=AgentStatus.ACTIVE).order_by("slug")
        # Each repository the agent works on is a scope it asks about; one unscoped ask too.
        for scope in ["", *agent.repositories]
        for key in capabilities
    ]
    rng = random.Random(30)  # noqa: S311 (demo data: the same demo every time, no secret)
    now = timezone.now()
    for days_ago in range(DAYS - 1, -1, -1):
        asked = [ask for ask in asks if days_ago == 0 or rng.random() < 0.35]
        ids = [
            decide_and_record(agent_slug=slug, capability_key=key, scope=scope, caller=gateway)[1]
            for slug, key, scope in asked
        ]
        if days_ago:  # decided by today's rules, dated back across the month
            at = now - timedelta(days=days_ago, minutes=rng.randint(0, 600))
            Decision.objects.filter(pk__in=ids).update(decided_at=at)
