"""Teams, tools and capabilities."""

from django.db.models import Prefetch, QuerySet

from kernel.errors import ApplicationError, NotFound
from registry.models import Capability, Team, Tool


def team_list() -> QuerySet[Team]:
    return Team.objects.prefetch_related("members").order_by("slug")


def team_get(slug: str) -> Team:
    try:
        return Team.objects.get(slug=slug)
    except Team.DoesNotExist:
        raise NotFound(f"No team with slug '{slug}'.") from None


def tool_list() -> QuerySet[Tool]:
    return Tool.objects.prefetch_related(
        Prefetch("capabilities", queryset=Capability.objects.order_by("action"))
    ).order_by("slug")


def tool_get(slug: str) -> Tool:
    try:
        return tool_list().get(slug=slug)
    except Tool.DoesNotExist:
        raise NotFound(f"No tool with slug '{slug}'.") from None


def capability_get(key: str) -> Capability:
    """A capability by its `tool:action` key; a malformed or unknown key is said plainly."""
    if not isinstance(key, str) or key.count(":") != 1:
        raise ApplicationError(
            f"Capabilities are written tool:action (e.g. github:read); got '{key}'.",
            field="capability",
        )
    try:
        return Capability.objects.select_related("tool").get(key=key)
    except Capability.DoesNotExist:
        raise NotFound(f"No capability '{key}'.", field="capability") from None


def capability_keys() -> set[str]:
    """Every capability in the catalogue, by key (what a policy file may name)."""
    return set(Capability.objects.values_list("key", flat=True))
