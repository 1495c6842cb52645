"""A status moves only along its workflow's table: status -> the statuses it may become."""

from collections.abc import Collection, Mapping
from typing import TypeVar

from kernel.errors import ApplicationError

Status = TypeVar("Status", bound=str)


def check_transition(
    allowed: Mapping[Status, Collection[str]], current: Status, new: str, refusal: str
) -> None:
    """Refuse a move the table does not allow (`invalid_transition`), saying `refusal`."""
    if new not in allowed.get(current, ()):
        raise ApplicationError(refusal, code="invalid_transition")
