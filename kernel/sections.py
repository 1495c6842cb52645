"""Page sections that higher apps contribute to a lower app's page.

A page in a lower layer (an agent's page, a draft's review) cannot import the apps above it;
they register a provider instead, in their `AppConfig.ready()`. A provider returns a dict with
`title`, `template` and that template's context, or None when it has nothing to show.
"""

from collections.abc import Callable
from typing import Generic, ParamSpec

P = ParamSpec("P")


class Sections(Generic[P]):
    def __init__(self) -> None:
        self._providers: list[Callable[P, dict | None]] = []

    def register(self, provider: Callable[P, dict | None]) -> None:
        if provider not in self._providers:
            self._providers.append(provider)

    def collect(self, *args: P.args, **kwargs: P.kwargs) -> list[dict]:
        """What every provider shows, in the order they registered."""
        found = (provider(*args, **kwargs) for provider in self._providers)
        return [section for section in found if section is not None]
