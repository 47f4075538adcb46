"""`manage.py seed`: the token packs and subscription plans a fresh install sells (SCHEMA.md).

The roof's command: each default is created by the app that owns it (`tokens` its packs,
`billing` its plans), from the product's numbers in settings. Idempotent and respectful of the
back office: a row that exists is never touched, so a second run changes nothing.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from billing.catalogue import seed_default_plans
from tokens.catalogue import seed_default_packages


class Command(BaseCommand):
    help = "Load the default token packages and subscription plans (safe to run again)."

    def handle(self, *args, **options):
        with transaction.atomic():
            created, kept = seed_default_packages()
            plans_created, plans_kept = seed_default_plans()
        created += plans_created
        kept += plans_kept
        for label in created:
            self.stdout.write(f"created {label}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Seed: {len(created)} created, {len(kept)} already present (left unchanged)."
            )
        )
