"""HTML forms of the registry: they validate input; services decide and write."""

from typing import cast

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet

from kernel.errors import ApplicationError
from kernel.permissions import Action, AnyUser, can
from kernel.validation import SLUG_MAX_LENGTH
from registry.models import Agent, AgentStatus, Capability, Effect, Team, Tier
from registry.models.inventory import AGENT_DESCRIPTION_MAX_LENGTH
from registry.models.policy import POLICY_TEXT_MAX_LENGTH
from registry.policy_rules import RuleMap, validate_rule
from registry.selectors.agents import owner_candidates


def teams_for(user: AnyUser) -> QuerySet[Team]:
    """Teams a person may file an agent under: their own (security: any)."""
    if can(user, Action.MANAGE_POLICY):
        return Team.objects.order_by("slug")
    if not user.is_authenticated:
        return Team.objects.none()
    return Team.objects.filter(members=user.pk).order_by("slug")


class RepositoriesField(forms.CharField):
    widget = forms.Textarea(
        attrs={"rows": 3, "placeholder": "one per line, e.g. acme/payments-api"}
    )

    def to_python(self, value):
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list) else value


class AgentForm(forms.Form):
    slug = forms.SlugField(
        max_length=SLUG_MAX_LENGTH, help_text="URL key, e.g. payments-fixer; cannot change"
    )
    name = forms.CharField(max_length=200)
    team = forms.ModelChoiceField(queryset=Team.objects.none(), to_field_name="slug")
    tier = forms.ChoiceField(choices=Tier.choices)
    workload_identity = forms.CharField(
        max_length=255, help_text="SPIFFE ID or service principal, unique per agent"
    )
    vendor = forms.CharField(max_length=200, required=False, help_text="e.g. claude-code")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=AGENT_DESCRIPTION_MAX_LENGTH,
    )
    repositories = RepositoriesField(required=False)

    def __init__(self, *args, user: AnyUser, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        teams = teams_for(user)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = teams
        if not editing and "team" not in self.initial:
            only = list(teams[:2])
            if len(only) == 1:  # an engineer in one team: nothing to choose
                self.initial["team"] = only[0].slug
        if editing:
            del self.fields["slug"]
            if not can(user, Action.MANAGE_POLICY):
                # Tier is security's after registration; shown on the page, not editable.
                del self.fields["tier"]


class AgentFilterForm(forms.Form):
    search = forms.CharField(required=False, label="Search")
    tier = forms.ChoiceField(choices=[("", "All tiers"), *Tier.choices], required=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("slug"),
        to_field_name="slug",
        required=False,
        empty_label="All teams",
    )
    owner = forms.ModelChoiceField(
        queryset=User.objects.filter(owned_agents__isnull=False).distinct().order_by("username"),
        to_field_name="username",
        required=False,
        empty_label="All owners",
    )
    status = forms.ChoiceField(choices=[("", "All statuses"), *AgentStatus.choices], required=False)
    orphaned = forms.ChoiceField(
        choices=[("", "Any"), ("true", "Orphaned: owner left"), ("false", "Owner still here")],
        required=False,
        label="Owner left",
    )
    stale = forms.ChoiceField(
        choices=[("", "Any"), ("true", "Stale: to re-attest"), ("false", "Attested recently")],
        required=False,
        label="Attestation",
    )


class AgentReassignForm(forms.Form):
    """Security gives an agent a new owner, picked among those who may own it."""

    owner = forms.ModelChoiceField(
        queryset=User.objects.none(), to_field_name="username", label="New owner"
    )
    reason = forms.CharField(
        max_length=500, required=False, help_text="e.g. the owner left; the team lead takes over"
    )

    def __init__(self, *args, agent: Agent, **kwargs):
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = owner_candidates(agent)


class AgentStatusForm(forms.Form):
    """Why an agent is suspended, reactivated or retired (kept on the agent, told its owner)."""

    reason = forms.CharField(
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Reason",
        error_messages={"required": "Say why: the owner is told and the agent's page shows it."},
    )

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required


UNKNOWN_EFFECT = f"Pick an effect from the list ({', '.join(Effect.values)}) or no rule."


class PolicyMatrixForm(forms.Form):
    """The whole draft in one form: an effect and a maximum per (tier, capability).

    Every cell is checked by `validate_rule`, as the API and the policy file are; a bad cell
    carries its error and the other cells keep what was typed, so nothing is lost."""

    def __init__(self, data=None, *, capabilities: list[Capability], rules: RuleMap) -> None:
        super().__init__(data)
        self.capabilities = capabilities
        for capability in capabilities:
            for tier in Tier.values:
                effect, hours = rules.get((tier, capability.key), ("", None))
                self.fields[self.effect_name(tier, capability.key)] = forms.ChoiceField(
                    choices=[("", "no rule (deny)"), *((v, v) for v in Effect.values)],
                    required=False,
                    initial=effect,
                    label=f"{tier} {capability.key} effect",
                    widget=forms.Select(attrs={"aria-label": f"{tier} {capability.key} effect"}),
                    error_messages={"invalid_choice": UNKNOWN_EFFECT},
                )
                self.fields[self.hours_name(tier, capability.key)] = forms.IntegerField(
                    required=False,
                    min_value=1,
                    initial=hours,
                    label=f"{tier} {capability.key} maximum hours",
                    widget=forms.NumberInput(
                        attrs={
                            "aria-label": f"{tier} {capability.key} maximum hours",
                            "class": "input-narrow",
                            "placeholder": "h",
                        }
                    ),
                    error_messages={"invalid": "Give the maximum as a whole number of hours."},
                )

    @staticmethod
    def effect_name(tier: str, key: str) -> str:
        return f"effect:{tier}:{key}"

    @staticmethod
    def hours_name(tier: str, key: str) -> str:
        return f"hours:{tier}:{key}"

    def clean(self) -> dict:
        data = super().clean() or {}
        for capability in self.capabilities:
            for tier in Tier.values:
                hours_name = self.hours_name(tier, capability.key)
                if hours_name in self.errors:
                    continue
                effect = data.get(self.effect_name(tier, capability.key)) or ""
                hours = data.get(hours_name)
                if not effect:
                    if hours is not None:
                        self.add_error(hours_name, "No rule has no maximum: pick an effect.")
                    continue
                try:
                    validate_rule(tier=tier, effect=effect, max_duration_hours=hours)
                except ApplicationError as exc:
                    self.add_error(hours_name, exc.message)
        return data

    def rules(self) -> RuleMap:
        """The matrix as typed (only once the form is valid)."""
        rules: RuleMap = {}
        for capability in self.capabilities:
            for tier in Tier.values:
                effect = self.cleaned_data.get(self.effect_name(tier, capability.key))
                if effect:
                    hours = self.cleaned_data.get(self.hours_name(tier, capability.key))
                    rules[(tier, capability.key)] = (effect, hours)
        return rules

    def rows(self) -> list[dict]:
        """Per capability, per tier: the two bound fields, for the template."""
        return [
            {
                "capability": capability,
                "cells": [
                    {
                        "tier": tier,
                        "effect": self[self.effect_name(tier, capability.key)],
                        "hours": self[self.hours_name(tier, capability.key)],
                    }
                    for tier in Tier.values
                ],
            }
            for capability in self.capabilities
        ]


class PolicyImportForm(forms.Form):
    """A policy file to open as a draft: uploaded, or pasted."""

    file = forms.FileField(
        required=False, label="Policy file", help_text="YAML or JSON, as exported."
    )
    text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
        label="Or paste the file",
    )

    def clean(self) -> dict:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            try:
                data["text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                raise forms.ValidationError("The file must be UTF-8 text.") from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError("Choose a policy file, or paste one.")
        return data


class PolicyDraftForm(forms.Form):
    """Opening a draft from the published version: what it is for."""

    notes = forms.CharField(
        required=False,
        max_length=POLICY_TEXT_MAX_LENGTH,
        label="Notes for the new version",
        widget=forms.TextInput(attrs={"placeholder": "why this change"}),
    )


class PolicyPublishForm(forms.Form):
    reason = forms.CharField(
        required=False,
        max_length=POLICY_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Why publish this version",
        help_text="Required when the draft loosens the policy (see the warnings).",
    )
