"""HTML forms of the exceptions app: they validate input; services decide and write."""

from typing import cast

from django import forms
from django.db.models import Q, QuerySet

from controls.models import Control
from exceptions.limits import ELEVATED_RISKS, MAX_DAYS, TEXT_MAX_LENGTH, TITLE_MAX_LENGTH
from exceptions.models import Risk
from exceptions.rules import risk_floor_refusal
from kernel.permissions import Action, AnyUser, can
from registry.models import Agent, AgentStatus, Capability

MAX_DAYS_HELP = (
    "Longest allowed: "
    + ", ".join(f"{risk} {days} days" for risk, days in MAX_DAYS.items())
    + ". A high-risk capability is at least high risk; on a production agent, critical."
)


def agents_for(user: AnyUser) -> QuerySet[Agent]:
    """Agents a person may ask an exception for: their own or their team's (security: any)."""
    agents = Agent.objects.filter(status=AgentStatus.ACTIVE)
    if not can(user, Action.APPROVE):
        agents = agents.filter(Q(owner=user) | Q(team__members=user)).distinct()
    return agents.order_by("slug")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ControlChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Control) -> str:
        return f"{obj.ref_id} {obj.title}"


class ExceptionForm(forms.Form):
    title = forms.CharField(max_length=TITLE_MAX_LENGTH)
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), to_field_name="slug")
    capability = forms.ModelChoiceField(
        queryset=Capability.objects.order_by("key"),
        to_field_name="key",
        help_text="the capability whose policy rule this exception deviates from",
    )
    risk = forms.ChoiceField(choices=Risk.choices, help_text=MAX_DAYS_HELP)
    starts_at = forms.DateTimeField(
        required=False, widget=DateTimeInput(), label="Starts at (UTC)", help_text="empty = now"
    )
    expires_at = forms.DateTimeField(widget=DateTimeInput(), label="Expires at (UTC)")
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=TEXT_MAX_LENGTH
    )
    compensating_controls = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX_LENGTH,
        required=False,
        help_text=f"required for {' and '.join(ELEVATED_RISKS)} risk",
    )
    controls = ControlChoiceField(
        queryset=Control.objects.filter(active=True).order_by("ref_id"),
        to_field_name="ref_id",
        required=False,
        label="Controls it deviates from",
        help_text="Leave empty for the controls that govern the capability "
        "(AGC-02 and AGC-03; AGC-04 too for a high-risk capability).",
    )

    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = agents_for(user)

    def clean(self) -> dict:
        """The risk floor, shown on the risk field before the service refuses it too."""
        data = super().clean() or {}
        agent, capability, risk = data.get("agent"), data.get("capability"), data.get("risk")
        if agent and capability and risk:
            reason = risk_floor_refusal(risk, agent, capability)
            if reason:
                self.add_error("risk", reason)
        return data


class RenewForm(forms.Form):
    expires_at = forms.DateTimeField(widget=DateTimeInput(), label="New expiry (UTC)")
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX_LENGTH,
        help_text="why the deviation is still needed",
    )
