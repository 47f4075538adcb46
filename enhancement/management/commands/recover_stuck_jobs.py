"""manage.py recover_stuck_jobs: one round of the enhancement sweeper.

For a system cron or a platform scheduler, beside the django-q2 schedule that runs the same
sweep every 30 s (enhancement/migrations/0008). Safe at the same time as the schedule and as
itself: every change re-checks the job under its row lock or in a conditional UPDATE, so a job
is taken back, retried or refunded once whichever path ran. Prints one line; exits non-zero
on failure.

    * * * * *  cd /srv/lumen && .venv/bin/python manage.py recover_stuck_jobs
"""

from django.core.management.base import BaseCommand

from enhancement.jobs import sweeper


class Command(BaseCommand):
    help = "Take back jobs whose worker died, enqueue due retries and lost messages."

    def handle(self, *args, **options):
        report = sweeper.recover_stuck_jobs()
        done = ", ".join(f"{n} {what}" for what, n in report.as_dict().items())
        self.stdout.write(f"recover_stuck_jobs: {done}")
