"""Teams, tools and capabilities: security owns the catalogue."""

from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, models, transaction

from kernel.audit import audit_actor
from kernel.errors import ApplicationError
from kernel.permissions import Action, require
from registry.models import Capability, Team, Tool


def _save(instance: models.Model) -> None:
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ApplicationError(
            f"This {instance._meta.verbose_name} already exists.", code="duplicate"
        ) from exc


def _apply(instance: models.Model, changes: dict[str, Any], editable: set[str]) -> None:
    unknown = set(changes) - editable
    if unknown:
        raise ApplicationError(
            f"These fields cannot be changed here: {', '.join(sorted(unknown))}.", code="read_only"
        )
    for field, value in changes.items():
        setattr(instance, field, value)


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
    with audit_actor(actor):
        _save(team)
        if members:
            team.members.set(members)
    return team


@transaction.atomic
def team_update(
    *, actor: User, team: Team, members: list[User] | None = None, **changes: Any
) -> Team:
    require(actor, Action.MANAGE_POLICY)
    _apply(team, changes, {"name", "business_unit"})
    with audit_actor(actor):
        _save(team)
        if members is not None:
            team.members.set(members)
    return team


@transaction.atomic
def tool_create(*, actor: User, slug: str, name: str, category: str, description: str = "") -> Tool:
    require(actor, Action.MANAGE_POLICY)
    tool = Tool(slug=slug, name=name, category=category, description=description)
    with audit_actor(actor):
        _save(tool)
    return tool


@transaction.atomic
def tool_update(*, actor: User, tool: Tool, **changes: Any) -> Tool:
    require(actor, Action.MANAGE_POLICY)
    _apply(tool, changes, {"name", "category", "description"})
    with audit_actor(actor):
        _save(tool)
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
    with audit_actor(actor):
        _save(capability)
    return capability


@transaction.atomic
def capability_update(*, actor: User, capability: Capability, **changes: Any) -> Capability:
    require(actor, Action.MANAGE_POLICY)
    _apply(capability, changes, {"high_risk", "description"})
    with audit_actor(actor):
        _save(capability)
    return capability
