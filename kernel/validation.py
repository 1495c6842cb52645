"""Small input checks services share: each refusal names its field and says what to do."""

import datetime
import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError

from kernel.errors import ApplicationError

# Times and days the portal accepts anywhere (bodies, filters, periods). Python's dates end
# at year 9999 and begin at year 1: a day after 9999-12-31, a window before 0001-01-01 or a
# zone shift at either edge overflows, which would be a 500. Nothing the portal records
# happened before 1970 or will happen after 2999.
EARLIEST_YEAR = 1970
LATEST_YEAR = 2999
# Free text a person types on a workflow step (an approval's or denial's comment, a reason, a
# note): at most this many characters. Pages render it as the inputs' maxlength
# (portal.context_processors.limits), so browsers stop where the server would.
TEXT_MAX_LENGTH = 4000
# Slugs: teams, agents, tools, actions, trust providers.
SLUG_MAX_LENGTH = 64

# rest_framework.validators.ProhibitSurrogateCharactersValidator's words, so a hand-written
# check refuses a lone surrogate exactly as a serializer field does.
SURROGATE_MESSAGE = "Surrogate characters are not allowed: U+{code_point:X}."


def year_refusal(value: datetime.date, field: str) -> str | None:
    """Why `value` (a date or datetime) is out of range for `field`, or None if it is not.

    A datetime with a zone is judged as stored, in UTC: 2999-12-31T23:00-05:00 is 3000-01-01
    in UTC, and refused."""
    refused = f"{field} must fall between the years {EARLIEST_YEAR} and {LATEST_YEAR}."
    if isinstance(value, datetime.datetime) and value.utcoffset() is not None:
        try:
            value = value.astimezone(datetime.UTC)
        except OverflowError:  # a zone shift past year 1 or 9999
            return refused
    if EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        return None
    return refused


def sane_year_validator(field: str) -> Callable[[datetime.date | None], None]:
    """The same check as a field validator: Django and django-filter form fields, and DRF
    serializer fields (DRF turns its ValidationError into a 400 on the field)."""

    def validate(value: datetime.date | None) -> None:
        refusal = year_refusal(value, field) if value is not None else None
        if refusal:
            raise ValidationError(refusal, code="out_of_range")

    return validate


# Characters of drawing categories (letters, numbers, punctuation, symbols) that fonts draw as
# nothing: the Hangul fillers and the blank Braille pattern.
_BLANK_DRAWN = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_text(value: str) -> bool:
    """Whether `value` holds something a reader sees: not only spaces, line breaks, zero-width
    and other format characters (U+200B, U+200D, U+FEFF, U+2060, …), controls, lone combining
    marks or blank fillers."""
    return any(
        unicodedata.category(char)[0] in "LNPS" and char not in _BLANK_DRAWN for char in value
    )


def visible_text_validator(message: str) -> Callable[[str | None], None]:
    """`has_visible_text` as a field validator (Django forms, DRF serializers): a filled field
    with nothing visible in it is refused with `message`, as an empty one is."""

    def validate(value: str | None) -> None:
        if value and not has_visible_text(value):
            raise ValidationError(message, code="blank")

    return validate


def surrogate_refusal(value: str) -> str | None:
    """What is wrong with a string holding a lone surrogate (JSON lets `"\\ud800"` through,
    no database can store it), in the words of DRF's CharField, which every serializer field
    of the API refuses it with; None when there is none. An ASCII string is answered without
    looking at its characters one by one: the hand-written checks of the decision path run it
    on every request."""
    if value.isascii():
        return None
    for character in value:
        if "\ud800" <= character <= "\udfff":
            return SURROGATE_MESSAGE.format(code_point=ord(character))
    return None


def required_text(value: object, field: str, message: str, limit: int = TEXT_MAX_LENGTH) -> str:
    """A string with visible text (`has_visible_text`) of at most `limit` characters,
    stripped; `message` when missing or invisible."""
    if not isinstance(value, str) or not has_visible_text(value):
        raise ApplicationError(message, field=field)
    return optional_text(value, field, limit)


def optional_text(
    value: object, field: str, limit: int = TEXT_MAX_LENGTH, *, strip: bool = True
) -> str:
    """Text that may be left out (None, or with `strip` nothing visible: ""), stripped, then
    at most `limit` characters, as a form or serializer field counts them. `strip=False`
    keeps it exactly as given (a policy file's comment round-trips byte for byte)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicationError(f"{field} must be text.", field=field)
    text = value.strip() if strip else value
    if len(text) > limit:
        raise ApplicationError(f"{field} is limited to {limit} characters.", field=field)
    return "" if strip and not has_visible_text(text) else text
