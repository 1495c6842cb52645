"""HTML form of an access request."""

from django import forms
from django.db.models import Q

from kernel.permissions import AnyUser
from registry.models import Agent, AgentStatus, Capability


class AccessRequestForm(forms.Form):
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), to_field_name="slug")
    capability = forms.ModelChoiceField(
        queryset=Capability.objects.order_by("key"), to_field_name="key"
    )
    duration_hours = forms.IntegerField(
        min_value=1, max_value=100_000, initial=1, label="Duration (hours)"
    )
    scope = forms.CharField(
        max_length=500,
        required=False,
        help_text="Optional pattern, e.g. acme/payments-*; empty = any",
    )
    ticket = forms.CharField(max_length=100, required=False, help_text="e.g. JIRA-1234")
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    break_glass = forms.BooleanField(
        required=False,
        label="Break glass (emergency, production owners only, at most 1 hour)",
    )
    incident = forms.CharField(
        max_length=100, required=False, help_text="Incident reference, required to break glass"
    )

    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agent"].queryset = (
            Agent.objects.filter(Q(owner=user) | Q(team__members=user), status=AgentStatus.ACTIVE)
            .distinct()
            .order_by("slug")
        )
