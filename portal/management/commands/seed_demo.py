"""`manage.py seed_demo [--password P]`: idempotent demo data for every part of the portal."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.module_loading import import_string

from portal.demo.people import seed_people

# Each app's demo data, in dependency order; each is idempotent and takes the people by name.
APP_SEEDERS = (
    # The shipped catalogues and controls normally arrive by migration; loading them again is
    # a no-op, and restores them on a database that was flushed.
    "controls.catalogue.load_frameworks",
    "controls.catalogue.load_controls",
    "portal.demo.controls.seed_applicability",
    "portal.demo.controls.seed_control_owners",
    "portal.demo.registry.seed_registry",
    "portal.demo.access.seed_access",
    "portal.demo.exceptions.seed_exceptions",
    "portal.demo.decisions.seed_decisions",
    "portal.demo.credentials.seed_credentials",
)


class Command(BaseCommand):
    help = "Create demo teams, users for each role, and demo data. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="portal-demo", help="password for every user")

    def handle(self, *args, password: str, **options):
        if not password.strip():
            raise CommandError(
                "--password may not be empty: every demo user, the superuser included, would "
                "sign in with it. Give one, or leave --password out for portal-demo."
            )
        with transaction.atomic():
            logins = seed_people(password)
            for path in APP_SEEDERS:
                import_string(path)()
        self.stdout.write(self.style.SUCCESS("Demo data ready. Log in at /accounts/login/ as:"))
        width = max(len(username) for username, _ in logins)
        for username, role in logins:
            self.stdout.write(f"  {username.ljust(width)}  {password}  ({role})")
