"""`manage.py dispatch_outbox [--loop SECONDS]`: deliver what the outbox holds, for
deployments without a Celery worker (run it from cron, or with --loop as a small service)."""

import time

from django.core.management.base import BaseCommand

from kernel.commands import seconds_option
from kernel.outbox import backlog, dispatch_due

LOOP_MAX_SECONDS = 86_400  # a day: a longer pause is not a delivery loop


class Command(BaseCommand):
    help = "Deliver due outbox messages (notices, background builds) once, or every N seconds."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            default=0,
            help=f"repeat every N seconds (0 < N <= {LOOP_MAX_SECONDS}); default 0: once",
        )

    def handle(self, *args, loop: float, **options):
        seconds_option(loop, "--loop", maximum=LOOP_MAX_SECONDS)
        while True:
            delivered = dispatch_due()
            left = backlog()
            self.stdout.write(
                f"delivered {delivered}; pending {left['pending']}, failed {left['failed']}"
            )
            if not loop:
                return
            time.sleep(loop)
