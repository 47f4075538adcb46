"""manage.py stripe_catalogue: our active packs and plans as Stripe products and prices."""

from django.core.management.base import BaseCommand, CommandError

from billing import catalogue
from billing.errors import BillingError


class Command(BaseCommand):
    help = (
        "Create or update the Stripe products and prices of the active token packs (one-time) "
        "and plans (monthly, GBP), found again by lookup key, and store their price ids. Safe "
        "to run again; a changed price gets a new Stripe price and the old one is retired."
    )

    def handle(self, *args, **options):
        try:
            done = catalogue.sync_stripe_catalogue()
        except BillingError as error:
            detail = getattr(error, "detail", "")
            raise CommandError(f"{error} {detail}".strip()) from error
        for line in done:
            self.stdout.write(str(line))
        self.stdout.write(self.style.SUCCESS(f"Stripe catalogue: {len(done)} prices in place."))
