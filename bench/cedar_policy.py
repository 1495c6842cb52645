"""The portal's published policy, written as Cedar policies, and Cedar requests for decisions.

The translation keeps the portal's semantics: a standing `allow` rule permits by tier; a
`jit`/`approval` rule permits by tier when the agent holds an active grant for the
capability (given in the request context by the data lookup); an active exception permits
whatever the rule; a suspended or retired agent is forbidden; no rule and `deny` are Cedar's
default deny (an explicit forbid would wrongly override exceptions).
"""

import json


def cedar_policies(rules: list[tuple[str, str, str]]) -> str:
    """rules: (tier, capability key, effect) of one published version."""
    policies = ['forbid(principal, action, resource) unless { principal.status == "active" };']
    capabilities = sorted({key for _, key, _ in rules})
    for tier, key, effect in sorted(rules):
        action = json.dumps(key)
        if effect == "allow":
            policies.append(
                f"permit(principal, action == Action::{action}, resource) "
                f'when {{ principal.tier == "{tier}" }};'
            )
        elif effect in ("jit", "approval"):
            policies.append(
                f"permit(principal, action == Action::{action}, resource) "
                f'when {{ principal.tier == "{tier}" && context.grants.contains({action}) }};'
            )
    for key in capabilities:
        action = json.dumps(key)
        policies.append(
            f"permit(principal, action == Action::{action}, resource) "
            f"when {{ context.exceptions.contains({action}) }};"
        )
    return "\n".join(policies)


def cedar_request(
    *,
    agent: str,
    tier: str,
    status: str,
    capability: str,
    grants: list[str],
    exceptions: list[str],
) -> tuple[dict, list[dict]]:
    request = {
        "principal": f'Agent::"{agent}"',
        "action": f"Action::{json.dumps(capability)}",
        "resource": 'Scope::"any"',
        "context": {"grants": grants, "exceptions": exceptions},
    }
    entities = [
        {
            "uid": {"__entity": {"type": "Agent", "id": agent}},
            "attrs": {"tier": tier, "status": status},
            "parents": [],
        }
    ]
    return request, entities
