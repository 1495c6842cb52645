"""Sections other parts of the portal add to an agent's page (grants, requests, exceptions).

Each provider takes (agent, user). Higher apps register theirs in their `AppConfig.ready()`.
"""

from kernel.permissions import AnyUser
from kernel.sections import Sections
from registry.models import Agent

agent_sections: Sections[[Agent, AnyUser]] = Sections()
register_agent_section = agent_sections.register
sections_for = agent_sections.collect
