"""`manage.py mint_demo_workload_token <agent>`: a subject token from the demo workload
platform (seed_demo), as that agent's pipeline would present it to the token endpoint.

`--claim name=value` changes a claim (try `--claim ref=refs/heads/feature` to see the binding
refuse a branch it does not allow); `--ttl` sets its lifetime in seconds.
"""

import time
import uuid

import jwt
from django.core.management.base import BaseCommand, CommandError

from credentials.models import BindingStatus, IdentityBinding
from portal.demo.credentials import AUDIENCE, ISSUER, KID, PROVIDER, demo_private_key


class Command(BaseCommand):
    help = "Print a subject token signed by the demo workload platform for an agent's binding."

    def add_arguments(self, parser):
        parser.add_argument("agent", help="agent slug (run seed_demo first)")
        parser.add_argument("--claim", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--ttl", type=int, default=300, help="seconds (default 300)")

    def handle(self, *args, agent: str, claim: list[str], ttl: int, **options):
        binding = (
            IdentityBinding.objects.filter(
                agent__slug=agent, provider__slug=PROVIDER, status=BindingStatus.ACTIVE
            )
            .order_by("id")
            .first()
        )
        if binding is None:
            raise CommandError(
                f"Agent '{agent}' has no active binding to the demo provider: run seed_demo."
            )
        if not 1 <= ttl <= 3600:
            raise CommandError("--ttl: between 1 and 3600 seconds.")
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": binding.subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
            **binding.claims,
        }
        for item in claim:
            name, sep, value = item.partition("=")
            if not sep or not name:
                raise CommandError(f"--claim {item!r}: write NAME=VALUE.")
            claims[name] = value
        token = jwt.encode(claims, demo_private_key(), algorithm="ES256", headers={"kid": KID})
        self.stdout.write(token)
