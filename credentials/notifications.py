"""Notices about identity bindings: what the people concerned are told, rendered in the
transaction that made the change and delivered once it commits (kernel.notifications)."""

from typing import Any

from django.template.defaultfilters import pluralize

from approvals.notices import approvers_to_tell
from approvals.rules import approved_by
from credentials.models import BindingStatus, IdentityBinding
from credentials.rules import required_approvals_for
from credentials.selectors import bindings_of, overlapping_binding
from kernel.notifications import Event, link, notice, security_addresses
from registry.models import Agent


def describe(binding: IdentityBinding) -> str:
    """One binding as people name it: its number, provider, subject and claims."""
    claims = ", ".join(f"{name}={value}" for name, value in sorted(binding.claims.items()))
    return (
        f"#{binding.pk} {binding.provider.name} ({binding.provider.slug}), subject "
        f"{binding.subject}" + (f", claims {claims}" if claims else "")
    )


def _people_of(agent: Agent) -> list[str]:
    """The owner's and the team's addresses, the owner first."""
    team = sorted(agent.team.members.exclude(email="").values_list("email", flat=True))
    return [a for a in dict.fromkeys([agent.owner.email, *team]) if a]


# A binding's status after security decided it, as the event's name.
DECIDED: dict[str, str] = {
    BindingStatus.ACTIVE: "binding.approved",
    BindingStatus.REJECTED: "binding.rejected",
}


def _load(pk: int) -> IdentityBinding:
    return IdentityBinding.objects.select_related(
        "agent__owner", "agent__team", "provider", "requested_by", "closed_by"
    ).get(pk=pk)


def _about(binding: IdentityBinding, name: str, **said: Any) -> Event:
    """An event about one binding: its facts, then what the notice says (`Event.about`)."""
    facts = {
        "agent": binding.agent.slug,
        "tier": binding.agent.tier,
        "provider": binding.provider.slug,
        "status": binding.status,
        "requested_by": binding.requested_by.username,
        "required_approvals": binding.required_approvals,
    }
    return Event.about(binding, name, "binding", facts, **said)


@notice
def binding_waiting(pk: int) -> Event:
    """Security: a binding was added to a production agent and waits for approval."""
    binding = _load(pk)
    agent = binding.agent
    return _about(
        binding,
        "binding.filed",
        subject=f"Identity binding approval needed: #{pk} for agent {agent.slug}",
        body=f"{binding.requested_by.username} added a workload identity binding to the "
        f"production agent {agent.name} ({agent.slug}, team {agent.team.slug}, owner "
        f"{agent.owner.username}):\n- {describe(binding)}\n"
        "Token exchanges through it are refused until security approves it. Approve or reject "
        f"it on the approvals page: {link('approvals:queue')}#identity-bindings\n",
        recipients=approvers_to_tell(binding),
    )


@notice
def binding_decided(pk: int) -> Event | None:
    """Whoever added the binding and the agent's owner: security approved it (it is active,
    the agent's pipelines get credentials through it) or rejected it, and why."""
    binding = _load(pk)
    name = DECIDED.get(binding.status)
    if name is None:
        return None
    body = f"{describe(binding)}, agent {binding.agent.slug}.\n"
    if binding.status == BindingStatus.ACTIVE:
        body += f"{approved_by(binding)} Token exchanges through it work from now on.\n"
    else:
        body += (
            f"Rejected by {binding.closed_by.username if binding.closed_by else 'security'}: "
            f"{binding.close_comment}\nNo credential is issued through it.\n"
        )
    return _about(
        binding,
        name,
        subject=f"Identity binding #{pk} for agent {binding.agent.slug} {binding.status}",
        body=body,
        recipients=[
            a for a in dict.fromkeys([binding.requested_by.email, binding.agent.owner.email]) if a
        ],
    )


@notice
def bindings_after_tier_change(pk: int) -> Event | None:
    """The agent's tier changed and its bindings followed (credentials.services.bindings.
    bindings_follow_tier). On production: its pending bindings wait for security, who must
    approve them; the owner, the team and security are told. Below it: they need no approval
    and are active, but for any a token could match along with another agent's binding; the
    owner and the team are told."""
    agent = Agent.objects.select_related("owner", "team").get(pk=pk)
    bindings = list(bindings_of(agent))
    pending = [b for b in bindings if b.status == BindingStatus.PENDING]
    active = [b for b in bindings if b.status == BindingStatus.ACTIVE]
    facts = {
        "agent": agent.slug,
        "tier": agent.tier,
        "team": agent.team.slug,
        "owner": agent.owner.username,
    }
    data = {"pending_bindings": [b.pk for b in pending], "active_bindings": [b.pk for b in active]}
    if required_approvals_for(agent) > 0:
        if not pending:
            return None
        return Event.about(
            agent,
            "agent.bindings_await_approval",
            "agent",
            facts,
            subject=f"Agent {agent.slug} is production now: {len(pending)} workload identity "
            f"binding{pluralize(len(pending))} wait{pluralize(len(pending), 's,')} for security",
            body=_awaiting_body(agent, pending),
            recipients=[*_people_of(agent), *security_addresses()],
            data=data,
        )
    if not pending and not active:
        return None
    return Event.about(
        agent,
        "agent.bindings_need_no_approval",
        "agent",
        facts,
        subject=f"Agent {agent.slug} is {agent.tier} now: its workload identity bindings need "
        "no security approval",
        body=_released_body(agent, active, pending),
        recipients=_people_of(agent),
        data=data,
    )


def _awaiting_body(agent: Agent, pending: list[IdentityBinding]) -> str:
    listed = "".join(f"- {describe(binding)}\n" for binding in pending)
    return (
        f"{agent.name} ({agent.slug}, team {agent.team.slug}) is a production agent now. On "
        "production a workload identity binding takes effect only once security approves it, "
        "so these bindings are pending, and every token exchange through them is refused until "
        f"security approves:\n{listed}\n"
        f"Security: approve or reject them on the approvals page: "
        f"{link('approvals:queue')}#identity-bindings\n"
        "Owner and team: the agent's pipelines get no credential through these bindings until "
        "then. There is nothing to add again: ask security to approve them, and remove on the "
        "agent's page any you no longer need.\n"
    )


def _released_body(
    agent: Agent, active: list[IdentityBinding], pending: list[IdentityBinding]
) -> str:
    body = (
        f"{agent.name} ({agent.slug}, team {agent.team.slug}) is a {agent.tier} agent now. On "
        f"{agent.tier} a workload identity binding needs no security approval"
    )
    if not active:
        body += ", but the bindings below stay pending.\n"
    else:
        body += ": the bindings that waited for it take effect" + (
            ", except those still pending below.\n" if pending else ".\n"
        )
    if active:
        body += "Active now, and token exchanges through them work:\n"
        body += "".join(f"- {describe(binding)}\n" for binding in active)
    for binding in pending:
        other = overlapping_binding(binding)
        if other is None:  # nothing holds it: a binding added on this tier is active
            body += f"Still pending: {describe(binding)}. Remove it and add it again.\n"
            continue
        body += (
            f"Still pending: {describe(binding)}: a token could match both it and binding "
            f"#{other.pk} of agent '{other.agent.slug}', and every exchange with such a token "
            "would be refused. Have one of the two removed, then add this one again (on "
            f"{agent.tier} a binding is active when added).\n"
        )
    return body
