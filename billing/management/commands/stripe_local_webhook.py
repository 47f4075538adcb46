"""manage.py stripe_local_webhook --secret whsec_...: the endpoint that `stripe listen` forwards
to on a laptop (its signing secret is the CLI's, not one made in the dashboard)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from djstripe.enums import WebhookEndpointStatus
from djstripe.models import WebhookEndpoint
from djstripe.settings import djstripe_settings

LOCAL_ENDPOINT_ID = "we_local_stripe_cli"


class Command(BaseCommand):
    help = (
        "Create (or update) the webhook endpoint row for the Stripe CLI's `stripe listen`, with "
        "the signing secret it printed, and print the URL to forward to. Test mode only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--secret", required=True, help="the whsec_... that `stripe listen` printed"
        )

    def handle(self, *args, secret, **options):
        if not secret.startswith("whsec_"):
            raise CommandError("The secret is the whsec_... that `stripe listen` prints.")
        if settings.STRIPE_LIVE_MODE:
            raise CommandError("This is for test mode: add live endpoints in the admin.")
        endpoint, _created = WebhookEndpoint.objects.update_or_create(
            id=LOCAL_ENDPOINT_ID,
            defaults={
                "livemode": False,
                "secret": secret,
                "url": settings.SITE_URL,
                "enabled_events": ["*"],
                "status": WebhookEndpointStatus.enabled,
                "api_version": djstripe_settings.STRIPE_API_VERSION,
            },
        )
        path = reverse("djstripe:djstripe_webhook_by_uuid", kwargs={"uuid": endpoint.djstripe_uuid})
        self.stdout.write(f"stripe listen --forward-to {settings.SITE_URL.rstrip('/')}{path}")
