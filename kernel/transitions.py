"""A status moves only along its workflow's table: status -> the statuses it may become. The
one place the refusal of a move is worded."""

from collections.abc import Collection, Mapping
from typing import TypeVar

from kernel.errors import ApplicationError

Status = TypeVar("Status", bound=str)


def transition_refusal(subject: str, current: str, new: str) -> str:
    """What a refused move says: "Request #3 is already cancelled." when it asks for the
    status the subject has (a form posted twice), else "… is cancelled; it cannot become
    approved."."""
    current, new = _value(current), _value(new)
    if current == new:
        return f"{subject} is already {current}."
    return f"{subject} is {current}; it cannot become {new}."


def check_transition(
    allowed: Mapping[Status, Collection[str]],
    current: Status,
    new: str,
    refusal: str = "",
    *,
    subject: str = "",
) -> None:
    """Refuse a move the table does not allow (`invalid_transition`), saying `refusal`, or
    else `transition_refusal(subject, current, new)`."""
    if new not in allowed.get(current, ()):
        raise ApplicationError(
            refusal or transition_refusal(subject, current, new), code="invalid_transition"
        )


def _value(status: str) -> str:
    return str(getattr(status, "value", status))
