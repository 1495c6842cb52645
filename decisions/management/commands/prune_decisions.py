"""`manage.py prune_decisions [--dry-run]`: drop the decision log's and activity's months past
retention (DECISION_RETENTION_DAYS, ACTIVITY_RETENTION_DAYS), as the nightly task does.

It runs as the system, not as a person: retention is the policy the settings state, and each
drop is in the audit trail as done by "manage.py prune_decisions", with its row count. Days not
yet rolled up are rolled up first; a month with a day that cannot be is kept. `--dry-run` lists
what would go and changes nothing (not even the rollups)."""

from django.core.management.base import BaseCommand, CommandError

from decisions import retention

ACTOR = "manage.py prune_decisions"


class Command(BaseCommand):
    help = "Drop the decision log's and activity's months past retention (rolled up first)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would go; change nothing"
        )

    def handle(self, *args, dry_run: bool, **options):
        try:
            months = retention.prune(dry_run=dry_run, by=ACTOR)
        except retention.PruneBusy as exc:
            raise CommandError(exc.message) from None
        for month in months:
            self.stdout.write(self._line(month, dry_run=dry_run))
        gone = [month for month in months if month.dropped or (dry_run and not month.kept_because)]
        rows = sum(month.rows for month in gone)
        verb = "would drop" if dry_run else "dropped"
        summary = f"{verb} {len(gone)} month(s), {rows} rows"
        if not months:
            summary = "nothing is past retention"
        self.stdout.write(self.style.SUCCESS(summary) if gone or not months else summary)

    @staticmethod
    def _line(month: retention.Month, *, dry_run: bool) -> str:
        where = month.partition or f"rows of {month.log.table}"
        span = f"{month.start:%Y-%m-%d} to {month.end:%Y-%m-%d}"
        what = f"{month.log.name}: {where}, {span} (end excluded), {month.rows} rows"
        if month.kept_because:
            return f"kept {what}: {month.kept_because}"
        if dry_run:
            later = f"; {len(month.to_roll_up)} day(s) rolled up first" if month.to_roll_up else ""
            return f"would drop {what}{later}"
        return f"dropped {what}"
