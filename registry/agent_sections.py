"""Sections other parts of the portal add to an agent's page (grants, requests, exceptions).

Each provider takes (agent, user) and returns a dict with `title`, `template` and its context,
or None. Higher apps register their provider in their `AppConfig.ready()`.
"""

from collections.abc import Callable

from kernel.permissions import AnyUser
from registry.models import Agent

SectionProvider = Callable[[Agent, AnyUser], dict | None]

_providers: list[SectionProvider] = []


def register_agent_section(provider: SectionProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def sections_for(agent: Agent, user: AnyUser) -> list[dict]:
    sections = []
    for provider in _providers:
        section = provider(agent, user)
        if section is not None:
            sections.append(section)
    return sections
