"""Helpers for API views: validate a body and resolve references named in it."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.contrib.auth.models import User
from rest_framework import serializers

from kernel.errors import ApplicationError, NotFound

T = TypeVar("T")


# Sent by forms (the browsable API, an HTML form posting to the API), never an input.
_FORM_PLUMBING = frozenset({"csrfmiddlewaretoken"})


def _printable(name: str) -> str:
    """`name` as it can be echoed in an answer: a lone surrogate (JSON allows `"\\ud800"`, no
    encoder writes it) shown as its escape, so the refusal is a 400 and not a 500."""
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def unknown_fields(data: Any, known: Iterable[str]) -> str | None:
    """What to say when a body names a field the endpoint does not read (None when it
    names none): a typo (`scopes` for `scope`) silently ignored would change the request."""
    if not isinstance(data, Mapping):
        return None
    names_known = set(known)
    unknown = sorted(set(data) - names_known - _FORM_PLUMBING)
    if not unknown:
        return None
    names = ", ".join(f"'{_printable(str(name)[:40])}'" for name in unknown[:10])
    return f"Unknown field {names}: this endpoint reads {', '.join(sorted(names_known))}."


class InputSerializer(serializers.Serializer):
    """Base of every API body serializer (`*In`): a field it does not declare is a 400."""

    def to_internal_value(self, data: Any) -> Any:
        message = unknown_fields(data, self.fields)
        if message:
            raise serializers.ValidationError({"non_field_errors": [message]}, code="unknown")
        return super().to_internal_value(data)


def validated(serializer_class: type[serializers.Serializer], data: Any, **kwargs: Any) -> dict:
    """Validate `data`; a non-object body is a 400 that says so, never a 500."""
    if not isinstance(data, dict):
        raise ApplicationError("The request body must be a JSON object.", code="invalid_body")
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def referenced(lookup: Callable[[str], T], value: str, field: str) -> T:
    """An object named in the body: unknown is a 400 on that field (the URL itself was fine)."""
    try:
        return lookup(value)
    except NotFound as exc:
        raise ApplicationError(exc.message, field=field, code="unknown_reference") from None


def user_by_username(username: str) -> User:
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise NotFound(f"No active user '{username}'.") from None
