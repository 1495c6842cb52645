"""Many decisions at once: a gateway filtering an agent's tool list asks once, not 50 times.

The facts of every item are read in one query (`decisions.many_facts`), each item goes
through the same decision table as a single decision (`engine.decide`), and every decision
is committed in one statement before the answer leaves (`log.record_many`), so a batch keeps
the single decision's guarantee: what was answered is in the log.
"""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.utils import timezone

from decisions import policy_cache
from decisions.many_facts import many_facts
from decisions.services.engine import DecisionResult, decide
from decisions.services.log import record_many


@dataclass(frozen=True)
class Ask:
    agent: str
    capability: str
    scope: str = ""


def decide_many(asks: list[Ask], *, caller: User | None) -> list[tuple[DecisionResult, int]]:
    """Decide and record every ask (checked already: 1 to BATCH_MAX well-formed items), in
    order; each with its decision's id."""
    at = timezone.now()
    capabilities = policy_cache.capability_infos(
        policy_cache.current(), {ask.capability for ask in asks}
    )
    facts = many_facts(
        slugs={ask.agent for ask in asks},
        capability_ids={info.id for info in capabilities.values()},
        at=at,
    )
    results = []
    for ask in asks:
        capability = capabilities.get(ask.capability)
        results.append(
            decide(
                facts.for_pair(ask.agent, capability.id if capability else None),
                capability,
                agent_slug=ask.agent,
                capability_key=ask.capability,
                scope=ask.scope,
            )
        )
    return list(zip(results, record_many(results, caller=caller), strict=True))
