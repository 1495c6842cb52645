"""Sections of security's /approvals/ queue. Workflow apps register a provider.

A provider takes the user and returns None or a dict with `key`, `title`, `template`
and `items`. Access and exceptions register theirs in their `AppConfig.ready()`.
"""

from collections.abc import Callable

from kernel.permissions import AnyUser

QueueProvider = Callable[[AnyUser], dict | None]

_providers: list[QueueProvider] = []


def register_queue_section(provider: QueueProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def queue_for(user: AnyUser) -> list[dict]:
    sections = []
    for provider in _providers:
        section = provider(user)
        if section is not None:
            sections.append(section)
    return sections
