"""Demo decisions: what the gateway asked, so the decision log, the audit report and a
draft's impact (the log replayed against it) have something to show."""

from django.contrib.auth.models import User

from decisions.models import Decision
from decisions.services.log import decide_and_record
from registry.models import Agent, AgentStatus, Capability


def seed_decisions() -> None:
    if Decision.objects.exists():
        return  # idempotent: the demo log is written once
    gateway = User.objects.get(username="gateway")
    capabilities = list(Capability.objects.order_by("key").values_list("key", flat=True))
    for agent in Agent.objects.filter(status=AgentStatus.ACTIVE).order_by("slug"):
        # Each repository the agent works on is a scope it asks about; one unscoped ask too.
        for scope in ["", *agent.repositories]:
            for key in capabilities:
                decide_and_record(
                    agent_slug=agent.slug, capability_key=key, scope=scope, caller=gateway
                )
