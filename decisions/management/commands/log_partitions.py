"""`manage.py log_partitions [--ensure]`: the monthly partitions of the decision log and of
activity (PostgreSQL), with their bounds and the planner's row estimates; `--ensure` first makes
this month's and PARTITION_MONTHS_AHEAD more, as the daily task does. On SQLite the tables are
plain and it says so."""

from django.core.management.base import BaseCommand

from decisions import partitions


class Command(BaseCommand):
    help = "List the decision log's and activity's monthly partitions (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--ensure", action="store_true", help="make this month's and those ahead first"
        )

    def handle(self, *args, ensure: bool, **options):
        if ensure:
            for name in partitions.ensure_partitions():
                self.stdout.write(f"made {name}")
        for log in partitions.LOGS.values():
            if not partitions.is_partitioned(log):
                self.stdout.write(f"{log.table}: a plain table (not partitioned)")
                continue
            found = partitions.partitions(log.table)
            self.stdout.write(f"{log.table}: {len(found)} partitions")
            for partition in found:
                start = f"{partition.start:%Y-%m-%d}" if partition.start else "MINVALUE"
                end = f"{partition.end:%Y-%m-%d}" if partition.end else "MAXVALUE"
                rows = "not analysed yet" if partition.rows is None else f"~{partition.rows} rows"
                self.stdout.write(f"  {partition.name}  {start} to {end}  {rows}")
