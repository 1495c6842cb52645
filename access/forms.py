"""HTML forms of access: a request, and the filters of the requests and grants pages."""

from collections.abc import Iterable
from typing import cast

from django import forms
from django.conf import settings

from access.limits import (
    DURATION_HOURS_INPUT_MAX,
    GRANT_EXPIRING_FILTER_MAX_HOURS,
    INCIDENT_NEEDED,
    SCOPE_MAX_LENGTH,
    TICKET_MAX_LENGTH,
    WHY_NEEDED,
)
from access.models import RequestStatus
from kernel.permissions import AnyUser
from kernel.validation import TEXT_MAX_LENGTH, visible_text_validator
from registry.models import Agent, AgentStatus, Capability, Tier
from registry.permissions import agents_run_by


class AccessRequestForm(forms.Form):
    """What a request asks; errors in plain words beside their fields (the policy's refusals,
    from the service, on the field they concern, with a link where they point elsewhere)."""

    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(),
        to_field_name="slug",
        error_messages={
            "required": "Pick the agent that needs access.",
            "invalid_choice": "Pick one of the agents listed: yours or your team's, and active.",
        },
    )
    capability = forms.ModelChoiceField(
        queryset=Capability.objects.order_by("key"),
        to_field_name="key",
        error_messages={
            "required": "Pick the capability the agent needs.",
            "invalid_choice": "Pick one of the capabilities listed.",
        },
    )
    duration_hours = forms.IntegerField(
        min_value=1,
        max_value=DURATION_HOURS_INPUT_MAX,
        initial=1,
        label="Duration (hours)",
        error_messages={
            "required": "Say for how many hours.",
            "invalid": "Enter the hours as a whole number.",
            "min_value": "Ask for at least 1 hour.",
            "max_value": "Ask for at most %(limit_value)s hours (the policy allows far fewer).",
        },
    )
    scope = forms.CharField(
        max_length=SCOPE_MAX_LENGTH,
        required=False,
        help_text="Optional pattern, e.g. acme/payments-*; empty = any",
    )
    ticket = forms.CharField(
        max_length=TICKET_MAX_LENGTH, required=False, help_text="e.g. JIRA-1234"
    )
    justification = forms.CharField(
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        validators=[visible_text_validator(WHY_NEEDED)],
        error_messages={"required": "Say why the agent needs this access."},
    )
    break_glass = forms.BooleanField(
        required=False,
    )
    incident = forms.CharField(
        max_length=TICKET_MAX_LENGTH,
        required=False,
        help_text="Incident reference, required to break glass",
        validators=[visible_text_validator(INCIDENT_NEEDED)],
    )

    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        hours = settings.BREAK_GLASS_MAX_HOURS
        self.fields["break_glass"].label = (
            "Break glass (emergency, production owners only, "
            f"at most {hours} hour{'s' if hours != 1 else ''})"
        )
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = (
            agents_run_by(user).filter(status=AgentStatus.ACTIVE).order_by("slug")
        )


def _pick(field: forms.Field, empty: str, values: Iterable[str]) -> None:
    cast(forms.ChoiceField, field).choices = [("", empty), *((value, value) for value in values)]


class _AgentAndCapabilityFilters(forms.Form):
    """Agent and capability, each picked from a list of those the person may see."""

    agent = forms.ChoiceField(required=False)
    capability = forms.ChoiceField(required=False)

    def __init__(self, *args, agents: Iterable[str], capabilities: Iterable[str], **kwargs):
        super().__init__(*args, **kwargs)
        _pick(self.fields["agent"], "Any agent", agents)
        _pick(self.fields["capability"], "Any capability", capabilities)


class RequestFilterForm(_AgentAndCapabilityFilters):
    """The filters of /requests/, each a list to pick from (the query parameters of
    access.filters.AccessRequestFilter, plus `all`: everyone's requests, not only mine)."""

    all = forms.ChoiceField(
        label="Requested by", required=False, choices=[("", "Me"), ("1", "Anyone I may see")]
    )
    status = forms.ChoiceField(required=False, choices=[("", "Any status"), *RequestStatus.choices])
    to_confirm = forms.ChoiceField(
        label="Filed by an agent",
        required=False,
        choices=[("", "Any"), ("true", "Awaiting my confirmation"), ("false", "Not awaiting me")],
    )
    field_order = ["all", "status", "agent", "capability", "to_confirm"]


class GrantFilterForm(_AgentAndCapabilityFilters):
    """The filters of /grants/ (access.filters.GrantFilter's query parameters)."""

    active = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("true", "Active now"), ("false", "Ended (expired or revoked)"), ("", "Any")],
    )
    tier = forms.ChoiceField(
        label="Agent tier", required=False, choices=[("", "Any tier"), *Tier.choices]
    )
    expiring_within_hours = forms.IntegerField(
        label="Ending within (hours)",
        required=False,
        min_value=1,
        max_value=GRANT_EXPIRING_FILTER_MAX_HOURS,
        help_text="active grants ending within this many hours",
    )
    field_order = ["active", "agent", "capability", "tier", "expiring_within_hours"]
