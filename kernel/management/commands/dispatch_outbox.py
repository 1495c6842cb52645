"""`manage.py dispatch_outbox [--loop SECONDS]`: deliver what the outbox holds, for
deployments without a Celery worker (run it from cron, or with --loop as a small service)."""

import time

from django.core.management.base import BaseCommand

from kernel.outbox import backlog, dispatch_due


class Command(BaseCommand):
    help = "Deliver due outbox messages (notices, background builds) once, or every N seconds."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, help="repeat every N seconds")

    def handle(self, *args, loop: float, **options):
        while True:
            delivered = dispatch_due()
            left = backlog()
            self.stdout.write(
                f"delivered {delivered}; pending {left['pending']}, failed {left['failed']}"
            )
            if not loop:
                return
            time.sleep(loop)
