from django.core.management.base import BaseCommand

from vouchers import services


class Command(BaseCommand):
    help = "Mark EXPIRED every ACTIVE voucher whose expiry has passed (the schedule runs it too)."

    def handle(self, *args, **options):
        count = services.sweep_expired()
        self.stdout.write(f"{count} voucher{'s' if count != 1 else ''} marked expired.")
