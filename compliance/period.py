"""The period a report speaks for: whole days, first and last included, in UTC."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from kernel.errors import ApplicationError

DEFAULT_DAYS = 30
EARLIEST = datetime.date(2000, 1, 1)


@dataclass(frozen=True)
class Period:
    start: datetime.date  # first day, included
    end: datetime.date  # last day, included

    @property
    def since(self) -> datetime.datetime:
        """The first instant of the period (inclusive)."""
        return datetime.datetime.combine(self.start, datetime.time.min, tzinfo=datetime.UTC)

    @property
    def until(self) -> datetime.datetime:
        """The first instant after the period (exclusive)."""
        return datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=datetime.UTC
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def as_of(self) -> datetime.datetime:
        """The moment "state at the end of the period" is read: its end, or now if sooner."""
        return min(self.until, timezone.now())

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


def _parse_day(value: str, name: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise ApplicationError(
            f"'{name}' must be a date written YYYY-MM-DD; got '{value[:40]}'.",
            code="bad_period",
            field=name,
        ) from None


def period_parse(
    date_from: str | None, date_to: str | None, *, today: datetime.date | None = None
) -> Period:
    """A period from `from`/`to` query values (either may be missing: last 30 days to today).

    Refused with a 400 that says why: a value that is not a date, `from` after `to`, a
    period before 2000, or one ending after tomorrow (nothing is recorded in the future;
    tomorrow is tolerated for people ahead of UTC).
    """
    today = today or timezone.now().date()
    end = _parse_day(date_to, "to") if date_to else today
    if end < EARLIEST:  # before the arithmetic below: 0001-01-01 minus 29 days overflows
        raise ApplicationError(
            f"Reports start on {EARLIEST.isoformat()} at the earliest.",
            code="bad_period",
            field="to",
        )
    start = (
        _parse_day(date_from, "from")
        if date_from
        else end - datetime.timedelta(days=DEFAULT_DAYS - 1)
    )
    if start > end:
        raise ApplicationError(
            f"'from' ({start.isoformat()}) is after 'to' ({end.isoformat()}): "
            "give the first day, then the last.",
            code="bad_period",
            field="from",
        )
    if start < EARLIEST:
        raise ApplicationError(
            f"Reports start on {EARLIEST.isoformat()} at the earliest.",
            code="bad_period",
            field="from",
        )
    if end > today + datetime.timedelta(days=1):
        raise ApplicationError(
            f"'to' ({end.isoformat()}) is in the future: nothing is recorded there yet.",
            code="bad_period",
            field="to",
        )
    return Period(start=start, end=end)
