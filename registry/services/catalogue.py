"""Teams, tools and capabilities: security owns the catalogue."""

from typing import Any

from django.contrib.auth.models import User
from django.db import models, transaction

from kernel.audit import audit_actor
from kernel.editing import apply_changes, save_unique
from kernel.permissions import Action, require
from registry.models import Capability, Team, Tool


def _save(actor: User, instance: models.Model) -> None:
    with audit_actor(actor):
        instance.full_clean()
        save_unique(instance)


@transaction.atomic
def team_create(
    *,
    actor: User,
    slug: str,
    name: str,
    business_unit: str = "",
    members: list[User] | None = None,
) -> Team:
    require(actor, Action.MANAGE_POLICY)
    team = Team(slug=slug, name=name, business_unit=business_unit)
    with audit_actor(actor):  # the members too
        _save(actor, team)
        if members:
            team.members.set(members)
    return team


@transaction.atomic
def team_update(
    *, actor: User, team: Team, members: list[User] | None = None, **changes: Any
) -> Team:
    require(actor, Action.MANAGE_POLICY)
    apply_changes(team, changes, {"name", "business_unit"})
    with audit_actor(actor):  # the members too
        _save(actor, team)
        if members is not None:
            team.members.set(members)
    return team


@transaction.atomic
def tool_create(*, actor: User, slug: str, name: str, category: str, description: str = "") -> Tool:
    require(actor, Action.MANAGE_POLICY)
    tool = Tool(slug=slug, name=name, category=category, description=description)
    _save(actor, tool)
    return tool


@transaction.atomic
def tool_update(*, actor: User, tool: Tool, **changes: Any) -> Tool:
    require(actor, Action.MANAGE_POLICY)
    apply_changes(tool, changes, {"name", "category", "description"})
    _save(actor, tool)
    return tool


@transaction.atomic
def capability_create(
    *, actor: User, tool: Tool, action: str, high_risk: bool = False, description: str = ""
) -> Capability:
    require(actor, Action.MANAGE_POLICY)
    capability = Capability(
        tool=tool,
        action=action,
        key=f"{tool.slug}:{action}",
        high_risk=high_risk,
        description=description,
    )
    _save(actor, capability)
    return capability


@transaction.atomic
def capability_update(*, actor: User, capability: Capability, **changes: Any) -> Capability:
    require(actor, Action.MANAGE_POLICY)
    apply_changes(capability, changes, {"high_risk", "description"})
    _save(actor, capability)
    return capability
