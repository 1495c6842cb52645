"""HTML forms of the exceptions app: they validate input; services decide and write."""

from collections.abc import Mapping
from datetime import datetime
from typing import cast

from django import forms
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from controls.models import Control
from exceptions.filters import ExceptionFilter
from exceptions.limits import (
    ELEVATED_RISKS,
    MAX_DAYS,
    START_AHEAD_MAX_DAYS,
    STILL_NEEDED,
    TEXT_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    TITLE_NEEDED,
    WHY_NEEDED,
)
from exceptions.models import PolicyException, Risk
from exceptions.rules import (
    END_IN_PAST,
    compensating_controls_refusal,
    overlap_field,
    overlap_refusal,
    overlapping_exception,
    risk_floor_refusal,
    start_refusal,
    window_refusal,
)
from exceptions.selectors import pending_exception_for
from kernel.filtering import filter_form
from kernel.permissions import Action, AnyUser, can
from kernel.validation import sane_year_validator, visible_text_validator
from registry.models import Agent, AgentStatus, Capability
from registry.permissions import agents_run_by, agents_with_records_visible_to

MAX_DAYS_HELP = (
    "Longest allowed: "
    + ", ".join(f"{risk} {days} days" for risk, days in MAX_DAYS.items())
    + ". A high-risk capability is at least high risk; on a production agent, critical."
)


def agents_for(user: AnyUser) -> QuerySet[Agent]:
    """Agents a person may ask an exception for: their own or their team's (security: any)."""
    agents = Agent.objects.all() if can(user, Action.APPROVE) else agents_run_by(user)
    return agents.filter(status=AgentStatus.ACTIVE).order_by("slug")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class ControlChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Control) -> str:
        return f"{obj.ref_id} {obj.title}"


def _plain(**messages: str) -> dict[str, str]:
    """Error messages in plain words, in place of Django's defaults."""
    return messages


class ExceptionForm(forms.Form):
    """Every refusal the service would give for this input, shown at once beside its field
    (the rules in exceptions.rules; the service checks them again when it files)."""

    title = forms.CharField(
        max_length=TITLE_MAX_LENGTH,
        validators=[visible_text_validator(TITLE_NEEDED)],
        error_messages=_plain(required=TITLE_NEEDED),
    )
    agent = forms.ModelChoiceField(
        queryset=Agent.objects.none(),
        to_field_name="slug",
        error_messages=_plain(
            required="Pick the agent it is for.",
            invalid_choice="Pick one of the agents listed: yours or your team's, and active.",
        ),
    )
    capability = forms.ModelChoiceField(
        queryset=Capability.objects.order_by("key"),
        to_field_name="key",
        help_text="the capability whose policy rule this exception deviates from",
        error_messages=_plain(
            required="Pick the capability whose policy rule it deviates from.",
            invalid_choice="Pick one of the capabilities listed.",
        ),
    )
    risk = forms.ChoiceField(
        choices=Risk.choices,
        help_text=MAX_DAYS_HELP,
        error_messages=_plain(
            required="Pick a risk.", invalid_choice="Pick a risk: low, medium, high or critical."
        ),
    )
    starts_at = forms.DateTimeField(
        required=False,
        widget=DateTimeInput(),
        label="Starts at (UTC)",
        help_text=f"empty = now; at most {START_AHEAD_MAX_DAYS} days ahead",
        validators=[sane_year_validator("starts_at")],
        error_messages=_plain(invalid="Enter the start as a date and time, or leave it empty."),
    )
    expires_at = forms.DateTimeField(
        widget=DateTimeInput(),
        label="Expires at (UTC)",
        validators=[sane_year_validator("expires_at")],
        error_messages=_plain(
            required="Say when the exception ends.", invalid="Enter the end as a date and time."
        ),
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX_LENGTH,
        validators=[visible_text_validator(WHY_NEEDED)],
        error_messages=_plain(required=WHY_NEEDED),
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
        error_messages=_plain(invalid_choice="Pick controls from the list."),
    )

    def __init__(self, *args, user: AnyUser, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["agent"]).queryset = agents_for(user)

    def clean(self) -> dict:
        data = super().clean() or {}
        agent, capability, risk = data.get("agent"), data.get("capability"), data.get("risk")
        if agent and capability and risk:
            self._refuse("risk", risk_floor_refusal(risk, agent, capability))
        now = timezone.now()
        starts_at = data.get("starts_at")
        if starts_at is not None:
            self._refuse("starts_at", start_refusal(starts_at, now))
        expires_at = data.get("expires_at")
        if risk and expires_at and not self.has_error("starts_at"):
            early = "" if starts_at else END_IN_PAST
            self._refuse("expires_at", window_refusal(risk, starts_at or now, expires_at, early))
        if risk:
            controls = data.get("compensating_controls", "")
            self._refuse("compensating_controls", compensating_controls_refusal(risk, controls))
        if agent and capability:
            self._refuse(None, _pending_refusal(agent, capability))
        if agent and capability and expires_at and not self.errors:
            self._refuse_overlap(agent, capability, starts_at or now, expires_at, now)
        return data

    def _refuse_overlap(
        self, agent: Agent, capability: Capability, starts: datetime, ends: datetime, now: datetime
    ) -> None:
        """A running exception this one would stack over (rules.overlapping_exception): said
        next to the start or the end, with a link to it."""
        asked = PolicyException(
            agent=agent, capability=capability, starts_at=starts, expires_at=ends
        )
        other = overlapping_exception(asked, now)
        if other is not None:
            self.add_error(
                overlap_field(other, starts),
                format_html(
                    '{} <a href="{}">See exception #{}</a>.',
                    overlap_refusal(other, now),
                    other.get_absolute_url(),
                    other.pk,
                ),
            )

    def _refuse(self, field: str | None, refusal: str | None) -> None:
        if refusal:
            self.add_error(field, refusal)


def _pending_refusal(agent: Agent, capability: Capability) -> str | None:
    """The same deviation pending already: a link to it, not a second one."""
    pk = pending_exception_for(agent, capability)
    if pk is None:
        return None
    return format_html(
        '<a href="{}">Exception #{}</a> for {} on {} is already pending: follow that one.',
        reverse("exceptions:detail", kwargs={"pk": pk}),
        pk,
        capability.key,
        agent.slug,
    )


class RenewForm(forms.Form):
    expires_at = forms.DateTimeField(
        widget=DateTimeInput(),
        label="New expiry (UTC)",
        validators=[sane_year_validator("expires_at")],
        error_messages=_plain(
            required="Say when the renewal ends.", invalid="Enter the end as a date and time."
        ),
    )
    justification = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX_LENGTH,
        help_text="why the deviation is still needed",
        validators=[visible_text_validator(STILL_NEEDED)],
        error_messages=_plain(required=STILL_NEEDED),
    )


def exception_filter_form(data: Mapping[str, str], user: AnyUser) -> forms.Form:
    """The filters of /exceptions/ (ExceptionFilter's form), with the agent and the capability
    picked from lists: the agents whose exceptions this person sees, every capability."""
    form = filter_form(ExceptionFilter, data, user=user)
    visible = agents_with_records_visible_to(user)
    agents = (Agent.objects.all() if visible is None else visible).order_by("slug")
    slugs = agents.values_list("slug", flat=True).distinct()
    keys = Capability.objects.order_by("key").values_list("key", flat=True)
    form.fields["agent"] = forms.ChoiceField(
        label="Agent", required=False, choices=[("", "Any agent"), *((s, s) for s in slugs)]
    )
    form.fields["capability"] = forms.ChoiceField(
        label="Capability",
        required=False,
        choices=[("", "Any capability"), *((k, k) for k in keys)],
    )
    return form
