"""`manage.py load_frameworks`: load the shipped catalogues and controls. Safe to run again."""

from django.core.management.base import BaseCommand

from controls.catalogue import load_controls, load_frameworks


class Command(BaseCommand):
    help = (
        "Load the OWASP ASI Top 10, NIST AI RMF 1.0, CSA MAESTRO, NIST CSF 2.0 and OWASP T1-T15 "
        "catalogues, and create missing shipped controls with their default mappings. "
        "Idempotent."
    )

    def handle(self, *args, **options):
        frameworks = load_frameworks()
        controls = load_controls()
        self.stdout.write(
            self.style.SUCCESS(
                f"{frameworks['frameworks']} frameworks, {frameworks['items']} items "
                f"({frameworks['items_created']} created, {frameworks['items_updated']} updated, "
                f"{frameworks['items_stale']} no longer published); "
                f"{controls['controls']} shipped controls ({controls['controls_created']} created, "
                f"{controls['mappings_created']} mappings created)."
            )
        )
