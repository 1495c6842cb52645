"""Input shapes of the activity report: one object or a batch, validated with `many=True`."""

from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from decisions.limits import ACTIVITY_BATCH_MAX, ACTIVITY_FUTURE_TOLERANCE
from kernel.api.inputs import InputSerializer
from kernel.errors import ApplicationError
from kernel.validation import year_refusal

_NOT_A_TIME = "'occurred_at' must be an ISO 8601 time with a zone, e.g. 2026-11-28T10:00:00Z."


class _Text(serializers.CharField):
    """A JSON string, nothing else (a CharField would turn 3 into "3"); one message for every
    way it can be wrong, naming the field and its limits."""

    def __init__(self, name: str, *, max_length: int, required: bool = True) -> None:
        article = "a non-empty" if required else "a"
        message = f"'{name}' must be {article} string of at most {max_length} characters."
        kinds = ("required", "blank", "null", "invalid", "max_length")
        super().__init__(
            max_length=max_length,
            required=required,
            allow_blank=not required,
            error_messages=dict.fromkeys(kinds, message),
        )
        if not required:
            self.default = ""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _ZonedTime(serializers.DateTimeField):
    """An ISO 8601 time with a zone: a naive time could mean any moment."""

    default_error_messages = {
        "required": _NOT_A_TIME,
        "invalid": _NOT_A_TIME,
        "future": "'occurred_at' is in the future.",
    }

    def to_internal_value(self, value: Any):
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None or timezone.is_naive(parsed):
            self.fail("invalid")
        if parsed > timezone.now() + ACTIVITY_FUTURE_TOLERANCE:
            self.fail("future")
        refusal = year_refusal(parsed, "'occurred_at'")
        if refusal:  # the coverage window before year 1 would overflow: a 400, not a 500
            raise serializers.ValidationError(refusal, code="out_of_range")
        return parsed


class ActivityListIn(serializers.ListSerializer):
    default_error_messages = {
        "not_a_list": "Send one activity object or a non-empty list of them.",
        "empty": "Send one activity object or a non-empty list of them.",
        "max_length": "At most {max_length} activities per request.",
    }


class ActivityIn(InputSerializer):
    default_error_messages = {"invalid": "each activity is a JSON object."}

    agent = _Text("agent", max_length=200)
    capability = _Text("capability", max_length=200)
    target = _Text("target", max_length=500, required=False)
    outcome = _Text("outcome", max_length=32)
    occurred_at = _ZonedTime()

    class Meta:
        list_serializer_class = ActivityListIn


def activity_input(data: Any) -> list[dict[str, Any]]:
    """One activity object or a list of them, validated as a batch; the first error is a 400
    that names the item (`item 2: ...`) when a list was sent."""
    single = isinstance(data, dict)
    batch = ActivityListIn(
        child=ActivityIn(),
        data=[data] if single else data,
        allow_empty=False,
        max_length=ACTIVITY_BATCH_MAX,
    )
    if batch.is_valid():
        return batch.validated_data
    errors = batch.errors
    if isinstance(errors, dict) and "non_field_errors" in errors:  # not a list, empty, too long
        raise ApplicationError(str(errors["non_field_errors"][0]))
    # Item errors come keyed by index (a list of per-item dicts in older DRF releases).
    by_index = errors.items() if isinstance(errors, dict) else enumerate(errors)
    index, item_errors = min((i, e) for i, e in by_index if e)
    field, messages = next(iter(item_errors.items()))
    where = "" if single else f"item {index}: "
    raise ApplicationError(
        f"{where}{messages[0]}", field=None if field == "non_field_errors" else field
    )
