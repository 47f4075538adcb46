"""manage.py sync_subscriptions: catch up on subscription renewals whose webhooks went missing.

For a system cron or a platform scheduler, beside the django-q2 schedule that does the same
(billing/migrations/0004). Every live subscription whose period ended more than
`SUBSCRIPTION_SYNC_GRACE_MINUTES` ago is read from Stripe again with its invoices; a paid period
not yet granted grants its tokens now. Safe beside the webhooks, the schedule and itself: a
period grants once, under the subscription's row lock and keyed by its invoice. Prints one line;
exits non-zero when Stripe did not answer for one of them (the next run tries again).

    0 * * * *  cd /srv/lumen && .venv/bin/python manage.py sync_subscriptions
"""

from django.core.management.base import BaseCommand, CommandError

from billing import subscriptions
from billing.errors import PaymentsNotConfigured
from core.text import plural


class Command(BaseCommand):
    help = "Read overdue subscriptions from Stripe again and grant paid periods not yet granted."

    def handle(self, *args, **options):
        try:
            run = subscriptions.sync_overdue()
        except PaymentsNotConfigured as error:
            raise CommandError(f"sync_subscriptions: {error}") from error
        line = (
            f"sync_subscriptions: {plural(run.checked, 'overdue subscription')} checked, "
            f"{run.caught_up} caught up"
        )
        if run.failed:
            raise CommandError(f"{line}; Stripe did not answer for {', '.join(run.failed)}")
        self.stdout.write(line)
