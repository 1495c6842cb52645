"""Helpers for API views: validate a body and resolve references named in it."""

from collections.abc import Callable
from typing import Any, TypeVar

from django.contrib.auth.models import User
from rest_framework import serializers

from kernel.errors import ApplicationError, NotFound

T = TypeVar("T")


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
