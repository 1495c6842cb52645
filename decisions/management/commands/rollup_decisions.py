"""`manage.py rollup_decisions [--day YYYY-MM-DD]`: write the daily rollups reports read.

Without `--day`, rolls up what is due, as the periodic task does (each closed day once it
closed, a day that got rows after its roll, a day whose activity was reviewed since) and says
what it rolled. With `--day`, (re)rolls that closed UTC day, for the decision log and for
activity. Today (UTC, still open) and later are refused, and so is a date that is not one;
nothing is changed then."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from decisions import rollups
from kernel.validation import year_refusal


class Command(BaseCommand):
    help = "Roll up the decision log and activity per day: what is due, or one closed day."

    def add_arguments(self, parser):
        parser.add_argument(
            "--day", help="(re)roll this closed UTC day, written YYYY-MM-DD; default: what is due"
        )

    def handle(self, *args, day: str | None, **options):
        if day is None:
            rolled = rollups.roll_up_due()
        else:
            try:
                rolled = rollups.roll_up_day(_parse(day))
            except rollups.RollupRefused as exc:
                raise CommandError(exc.message) from None
        for one in rolled:
            self.stdout.write(str(one))
        if not rolled:
            self.stdout.write("Nothing to roll up: every closed day is rolled up.")
        else:
            rows = sum(one.rows for one in rolled)
            done = f"Done: {len(rolled)} log-day(s) rolled up, {rows} raw rows counted."
            self.stdout.write(self.style.SUCCESS(done))


def _parse(value: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            f"--day must be a date written YYYY-MM-DD; got '{value[:40]}'."
        ) from None
    refusal = year_refusal(day, "--day")
    if refusal:
        raise CommandError(refusal)
    return day
