"""Sections other parts of the portal add to an agent's page (grants, requests, exceptions).

Each provider takes (agent, user) and returns a dict with `title`, `template` and its context,
or None. Apps append their provider to SECTION_PROVIDERS by dotted path.
"""

from django.utils.module_loading import import_string

from portal.permissions import AnyUser
from registry.models import Agent

SECTION_PROVIDERS: list[str] = [
    "registry.sections.agent_access_section",
    "exceptions.sections.agent_exceptions_section",
]


def sections_for(agent: Agent, user: AnyUser) -> list[dict]:
    sections = []
    for path in SECTION_PROVIDERS:
        section = import_string(path)(agent, user)
        if section is not None:
            sections.append(section)
    return sections
