"""Small input checks services share: each refusal names its field and says what to do."""

from kernel.errors import ApplicationError


def required_text(value: object, field: str, message: str, limit: int = 4000) -> str:
    """A non-blank string of at most `limit` characters, stripped; `message` when missing."""
    if not isinstance(value, str) or not value.strip():
        raise ApplicationError(message, field=field)
    if len(value) > limit:
        raise ApplicationError(f"{field} is limited to {limit} characters.", field=field)
    return value.strip()
