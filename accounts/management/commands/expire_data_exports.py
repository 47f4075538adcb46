from django.core.management.base import BaseCommand, CommandError

from accounts.exports import builder


class Command(BaseCommand):
    help = (
        "Delete the zips of data exports past their expiry (marked EXPIRED) and fail exports "
        "whose worker died (the hourly schedule runs it too)."
    )

    def handle(self, *args, **options):
        try:
            result = builder.expire_exports()
        except Exception as exc:
            raise CommandError(f"expire_data_exports failed: {exc}") from exc
        self.stdout.write(
            f"expire_data_exports: {result.expired} expired, {result.stuck} stuck marked failed"
        )
