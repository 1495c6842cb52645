"""`manage.py rotate_signing_key --as USER`: a new active signing key; the old one stays
published until its last token expires. Only a security user may rotate (audited as them)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from credentials import keys
from credentials.limits import SIGNING_ALGORITHMS
from kernel.commands import acting_user
from kernel.permissions import Action


class Command(BaseCommand):
    help = "Make a new active signing key (the previous one stays published while it matters)."

    def add_arguments(self, parser):
        parser.add_argument("--as", dest="username", required=True, help="a security user")
        parser.add_argument("--algorithm", choices=SIGNING_ALGORITHMS, default=None)

    def handle(self, *args, username: str, algorithm: str | None, **options):
        user = acting_user(username, Action.MANAGE_TRUST)
        key = keys.rotate(actor=user, algorithm=algorithm)
        for published in keys.published_keys():
            if published.pk == key.pk:
                continue
            until = published.publish_until or timezone.now()
            self.stdout.write(
                f"  {published.kid}: retired, published until {until:%Y-%m-%d %H:%M} UTC"
            )
        self.stdout.write(self.style.SUCCESS(f"Active signing key: {key.kid} ({key.algorithm})"))
