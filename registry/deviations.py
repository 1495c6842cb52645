"""Where a person asks to deviate from the tier policy for one agent and capability.

The exceptions app registers its form, prefilled with both (`ExceptionsConfig.ready()`); access
links to it when the policy denies a request. With none registered there is no link.
"""

from collections.abc import Callable

from registry.models import Agent, Capability

DeviationForm = Callable[[Agent, Capability], str]

_forms: list[DeviationForm] = []


def register_deviation_form(url_for: DeviationForm) -> None:
    if url_for not in _forms:
        _forms.append(url_for)


def deviation_form_url(agent: Agent, capability: Capability) -> str:
    """The address of the form that asks to deviate, prefilled; "" when there is none."""
    return _forms[0](agent, capability) if _forms else ""
