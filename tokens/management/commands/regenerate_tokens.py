"""manage.py regenerate_tokens: credit every balance with the regeneration that is due.

For a system cron or a platform scheduler, beside the django-q2 schedule that does the same
(tokens/migrations/0002). Safe at the same time as the schedule and as itself: a balance is
credited by whole intervals from its own clock, under its row lock, so two runs in the same
interval credit it once, whichever path ran. Prints one line; exits non-zero on failure.

    */15 * * * *  cd /srv/lumen && .venv/bin/python manage.py regenerate_tokens
"""

from django.core.management.base import BaseCommand

from tokens import services


class Command(BaseCommand):
    help = "Credit every balance below the cap with the regeneration that is due."

    def handle(self, *args, **options):
        run = services.regenerate_all()
        self.stdout.write(
            f"regenerate_tokens: {run.tokens} token{'s' if run.tokens != 1 else ''} credited "
            f"to {run.users} balance{'s' if run.users != 1 else ''}"
        )
