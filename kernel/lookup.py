"""Loading one protected object for a person: missing, hidden and malformed look the same."""

from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from kernel.errors import NotFound

M = TypeVar("M", bound=Model)


def get_by_pk(visible: QuerySet[M], pk: int | str, missing: str) -> M:
    """The row `pk` among those this person sees, or NotFound(`missing`): a malformed or
    out-of-range id is as missing as an unknown or hidden one, so a forged id leaks nothing."""
    try:
        return visible.get(pk=int(pk))
    except (ObjectDoesNotExist, ValueError, TypeError, OverflowError):
        raise NotFound(missing) from None
