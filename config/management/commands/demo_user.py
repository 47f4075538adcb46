"""`manage.py demo_user`: a verified user with some tokens, for trying the app on a laptop.

Safe to run again: the user and its verified address are reused, the password is set to the one
printed, and the welcome tokens are granted once (an idempotency key in the ledger).
"""

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from tokens import services
from tokens.models import TokenTransactionType

DEFAULT_EMAIL = "demo@example.com"
DEFAULT_PASSWORD = "enhance-demo-2024"  # noqa: S105 (a printed demo login, laptops only)
WELCOME_TOKENS = 50


class Command(BaseCommand):
    help = "Create (or refresh) a verified demo user with welcome tokens and print its login."

    def add_arguments(self, parser):
        parser.add_argument("--email", default=DEFAULT_EMAIL)
        parser.add_argument("--password", default=DEFAULT_PASSWORD)
        parser.add_argument("--tokens", type=int, default=WELCOME_TOKENS)

    def handle(self, *args, email, password, tokens, **options):
        email = email.strip().lower()
        User = get_user_model()
        with transaction.atomic():
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                user = User.objects.create_user(email=email, password=password, name="Demo")
            else:
                user.set_password(password)
                user.save(update_fields=["password"])
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
        if tokens > 0:
            # One welcome grant per user, ever: the key makes a second run a no-op.
            services.grant(
                user=user,
                amount=tokens,
                type=TokenTransactionType.EARN_BONUS,
                source="demo",
                source_id=user.pk,
                idempotency_key=f"demo-user-welcome:{user.pk}",
            )
        balance = services.get_balance(user)
        self.stdout.write(
            self.style.SUCCESS(f"Demo login: {email} / {password}  ({balance} tokens)")
        )
