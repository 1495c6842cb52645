"""HTML forms of the credentials app: they check the shape of the input; the services decide
(a usable key source, allowed algorithms, who may bind, duplicates) and write."""

import json
from typing import Any, cast

from django import forms

from credentials.limits import (
    ASYMMETRIC_ALGORITHMS,
    DEFAULT_ALGORITHMS,
    DEFAULT_MAX_TOKEN_AGE_SECONDS,
    MAX_TOKEN_AGE_SECONDS,
    MIN_TOKEN_AGE_SECONDS,
    PROVIDER_TEXT_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    TOKEN_AGE_RANGE,
)
from credentials.selectors import provider_list
from kernel.validation import SLUG_MAX_LENGTH


class JwksField(forms.JSONField):
    """A JWK Set typed or pasted: empty shows empty (not "null"), a stored one indented."""

    def prepare_value(self, value: Any) -> Any:
        if value is None or isinstance(value, forms.fields.InvalidJSONInput):
            return value or ""
        return json.dumps(value, indent=2, ensure_ascii=False)


class ProviderForm(forms.Form):
    slug = forms.SlugField(
        max_length=SLUG_MAX_LENGTH, help_text="a short name: letters, digits and dashes"
    )
    name = forms.CharField(max_length=200)
    issuer = forms.CharField(
        max_length=PROVIDER_TEXT_MAX_LENGTH,
        help_text="the exact issuer of its tokens (their iss claim)",
    )
    jwks_uri = forms.URLField(
        max_length=PROVIDER_TEXT_MAX_LENGTH,
        required=False,
        assume_scheme="https",
        widget=forms.TextInput(attrs={"inputmode": "url"}),
        label="JWKS URI",
        help_text="where its public keys are (https), or leave empty and paste them below",
    )
    jwks = JwksField(
        required=False,
        label="JWKS (inline)",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text='its public keys as a JWK Set, {"keys": [...]}, instead of a JWKS URI',
    )
    audience = forms.CharField(
        max_length=PROVIDER_TEXT_MAX_LENGTH,
        help_text="the audience its tokens must carry (their aud claim)",
    )
    algorithms = forms.MultipleChoiceField(
        choices=[(name, name) for name in ASYMMETRIC_ALGORITHMS],
        initial=DEFAULT_ALGORITHMS,
        widget=forms.CheckboxSelectMultiple,
        help_text="asymmetric signatures only",
    )
    max_token_age_seconds = forms.IntegerField(
        min_value=MIN_TOKEN_AGE_SECONDS,
        max_value=MAX_TOKEN_AGE_SECONDS,
        initial=DEFAULT_MAX_TOKEN_AGE_SECONDS,
        label="Max token age (seconds)",
        help_text=(
            "a subject token older than this is refused "
            f"({MIN_TOKEN_AGE_SECONDS} to {MAX_TOKEN_AGE_SECONDS})"
        ),
        error_messages=dict.fromkeys(("min_value", "max_value"), TOKEN_AGE_RANGE),
    )

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]  # a provider's slug names it in bindings and logs

    def clean_jwks(self) -> Any:
        jwks = self.cleaned_data.get("jwks")
        if jwks is not None and not isinstance(jwks, dict):
            raise forms.ValidationError('A JSON object: {"keys": [...]}.')
        return jwks

    def clean_jwks_uri(self) -> str:
        return self.cleaned_data.get("jwks_uri") or ""


class ProviderDeleteForm(forms.Form):
    """Deleting asks for the provider's slug, typed: no removal by a stray click."""

    confirm = forms.CharField(
        max_length=SLUG_MAX_LENGTH, label="Type the provider's slug to confirm"
    )

    def __init__(self, *args: Any, slug: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slug = slug

    def clean_confirm(self) -> str:
        typed = self.cleaned_data["confirm"].strip()
        if typed != self.slug:
            raise forms.ValidationError(f"Type '{self.slug}' exactly to delete this provider.")
        return typed


def parse_claims(text: str) -> dict[str, str]:
    """`name=value-or-glob`, one a line (blank lines ignored) -> {name: value}."""
    claims: dict[str, str] = {}
    errors = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            errors.append(f"line {number}: write name=value (a glob may use * ? [ ]).")
        elif name in claims:
            errors.append(f"line {number}: '{name[:60]}' is named twice.")
        else:
            claims[name] = value
    if errors:
        raise forms.ValidationError(errors)
    return claims


class ProviderChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.slug})"


class BindingForm(forms.Form):
    provider = ProviderChoiceField(queryset=provider_list(), to_field_name="slug")
    subject = forms.CharField(
        max_length=SUBJECT_MAX_LENGTH,
        help_text="the exact subject of its tokens (their sub claim), e.g. "
        "repo:acme/app:ref:refs/heads/main",
    )
    claims = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="optional, one name=value-or-glob a line, e.g. ref=refs/heads/*",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Its own ids: the form sits on the agent page next to other sections' fields.
        kwargs.setdefault("auto_id", "binding-%s")
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["provider"]).queryset = provider_list()

    def clean_claims(self) -> dict[str, str]:
        return parse_claims(self.cleaned_data.get("claims") or "")


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CredentialFilterForm(forms.Form):
    """The issued-credentials page's filters, named as the query parameters are (`from` is a
    Python keyword, hence the field added by name); the FilterSet does the filtering."""

    agent = forms.CharField(required=False, label="Agent (slug)")
    capability = forms.CharField(required=False, help_text="e.g. github:write")
    provider = forms.CharField(required=False, label="Provider (slug)")
    to = forms.DateTimeField(required=False, widget=DateTimeInput(), label="Issued before (UTC)")
    filter_names = {"since": "from"}  # the FilterSet's `since` is this form's `from`

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        since = forms.DateTimeField(required=False, widget=DateTimeInput(), label="From (UTC)")
        fields = list(self.fields.items())
        fields.insert(3, ("from", since))
        self.fields = dict(fields)
