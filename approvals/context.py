"""What an approver sees of the agent behind a subject: its grants now, its recent drift flags.

The queue (/approvals/) and the detail pages of requests and exceptions show, for each
subject's agent, sections that apps above this one contribute: access its active grants,
decisions its drift flags. A provider registers in its app's `AppConfig.ready()` with
`register_agent_context`; it takes (agents, user) and returns None (nothing this person may
see) or a dict with `key`, `title`, `template` (rendered with `section` and `rows`), `empty`
(what to say when an agent has no rows) and `by_agent` ({agent id: rows}). One query per
provider, however many subjects the page lists.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from kernel.permissions import AnyUser
from kernel.sections import Sections
from registry.models import Agent

agent_context_sections: Sections[[Sequence[Agent], AnyUser]] = Sections()
register_agent_context = agent_context_sections.register

ATTRIBUTE = "agent_context"


def attach_agent_context(subjects: Iterable[Any], user: AnyUser) -> None:
    """Set `agent_context` on each subject (it has `agent`): a list of the providers'
    sections, each with the `rows` of that subject's agent."""
    subjects = list(subjects)
    agents = list({subject.agent_id: subject.agent for subject in subjects}.values())
    if not agents:
        return
    sections = agent_context_sections.collect(agents, user)
    for subject in subjects:
        setattr(
            subject,
            ATTRIBUTE,
            [
                {**section, "rows": section["by_agent"].get(subject.agent_id, [])}
                for section in sections
            ],
        )
