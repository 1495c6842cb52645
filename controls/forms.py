"""HTML forms of compliance: they validate input; services decide and write."""

from typing import cast

from django import forms
from django.utils import timezone

from controls import selectors
from controls.models import STRENGTH_MAX, STRENGTH_MIN, Relationship
from controls.services import (
    EFFECTIVE_ON,
    MAX_DESCRIPTION_CHARS,
    MAX_EVIDENCE_DESCRIPTION_CHARS,
    MAX_RATIONALE_CHARS,
)
from kernel.validation import EARLIEST_YEAR, sane_year_validator
from registry.models import Team


class ControlForm(forms.Form):
    ref_id = forms.CharField(max_length=16, help_text="e.g. AGC-11; cannot change later")
    title = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=MAX_DESCRIPTION_CHARS, widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    owner = forms.ModelChoiceField(
        queryset=selectors.control_owner_choices(),
        to_field_name="username",
        required=False,
        empty_label="No owner",
        label="Owner",
        help_text="the security member who answers for this control",
    )
    owner_team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("slug"),
        to_field_name="slug",
        required=False,
        empty_label="No owner team",
    )
    active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["ref_id"]


class MappingFieldsMixin(forms.Form):
    relationship = forms.ChoiceField(choices=Relationship.choices)
    strength = forms.IntegerField(min_value=STRENGTH_MIN, max_value=STRENGTH_MAX)
    rationale = forms.CharField(max_length=MAX_RATIONALE_CHARS)


class MappingForm(MappingFieldsMixin):
    item = forms.TypedChoiceField(coerce=int, choices=(), label="Framework item")

    field_order = ["item", "relationship", "strength", "rationale"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        groups: dict[str, list[tuple[int, str]]] = {}
        for item in selectors.items_for_choice():
            label = item.label if len(item.label) <= 120 else f"{item.label[:119]}…"
            groups.setdefault(item.framework.name, []).append((item.pk, label))
        cast(forms.ChoiceField, self.fields["item"]).choices = [
            ("", "Choose an item"),
            *groups.items(),
        ]


class MappingEditForm(MappingFieldsMixin):
    pass


class EvidenceForm(forms.Form):
    file = forms.FileField()
    effective_on = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date", "min": f"{EARLIEST_YEAR}-01-01"}),
        help_text="the date this evidence speaks for (today or earlier)",
        initial=timezone.localdate,
        validators=[sane_year_validator(EFFECTIVE_ON)],
    )
    description = forms.CharField(max_length=MAX_EVIDENCE_DESCRIPTION_CHARS, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser stops at today: evidence is never effective in the future (services).
        self.fields["effective_on"].widget.attrs["max"] = timezone.localdate().isoformat()


class ApplicabilityForm(forms.Form):
    # The service says what a missing rationale lacks (the same words for the API).
    applicable = forms.TypedChoiceField(
        choices=[("no", "Not applicable"), ("yes", "Applicable")],
        coerce=lambda value: value == "yes",
        label="Applicability",
    )
    rationale = forms.CharField(
        # Always asked for (applicable again or not): the browser says so before it posts;
        # the service's words say what it lacks when it is missing anyway.
        widget=forms.Textarea(attrs={"rows": 2, "required": True}),
        max_length=MAX_RATIONALE_CHARS,
        required=False,
        help_text="why the item is out of the portal's scope (or back in it); auditors read it",
    )


class CrosswalkForm(forms.Form):
    a = forms.ChoiceField(label="Framework A")
    b = forms.ChoiceField(label="Framework B")

    def __init__(self, *args, frameworks, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(framework.key, framework.name) for framework in frameworks]
        cast(forms.ChoiceField, self.fields["a"]).choices = choices
        cast(forms.ChoiceField, self.fields["b"]).choices = choices
