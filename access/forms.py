"""HTML form of an access request."""

from typing import cast

from django import forms
from django.conf import settings
from django.db.models import Q

from access.limits import DURATION_HOURS_INPUT_MAX, SCOPE_MAX_LENGTH, TICKET_MAX_LENGTH
from kernel.permissions import AnyUser
from registry.models import Agent, AgentStatus, Capability


class AccessRequestForm(forms.Form):
    agent = forms.ModelChoiceField(queryset=Agent.objects.none(), to_field_name="slug")
    capability = forms.ModelChoiceField(
        queryset=Capability.objects.order_by("key"), to_field_name="key"
    )
    duration_hours = forms.IntegerField(
        min_value=1, max_value=DURATION_HOURS_INPUT_MAX, initial=1, label="Duration (hours)"
    )
    scope = forms.CharField(
        max_length=SCOPE_MAX_LENGTH,
        required=False,
        help_text="Optional pattern, e.g. acme/payments-*; empty = any",
    )
    ticket = forms.CharField(
        max_length=TICKET_MAX_LENGTH, required=False, help_text="e.g. JIRA-1234"
    )
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    break_glass = forms.BooleanField(
        required=False,
    )
    incident = forms.CharField(
        max_length=TICKET_MAX_LENGTH,
        required=False,
        help_text="Incident reference, required to break glass",
    )

    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        hours = settings.BREAK_GLASS_MAX_HOURS
        self.fields["break_glass"].label = (
            "Break glass (emergency, production owners only, "
            f"at most {hours} hour{'s' if hours != 1 else ''})"
        )
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = (
            Agent.objects.filter(Q(owner=user) | Q(team__members=user), status=AgentStatus.ACTIVE)
            .distinct()
            .order_by("slug")
        )
