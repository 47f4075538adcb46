from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import IdField, TimestampedModel


class TokenTransactionType(models.TextChoices):
    EARN_REGENERATION = "EARN_REGENERATION", "Regeneration"
    EARN_PURCHASE = "EARN_PURCHASE", "Purchase"
    EARN_BONUS = "EARN_BONUS", "Bonus"
    SPEND_ENHANCEMENT = "SPEND_ENHANCEMENT", "Enhancement"
    REFUND = "REFUND", "Refund"
    # Tokens taken back because the payment that bought them was refunded or lost a dispute
    # (negative; never more than the balance: `tokens.services.claw_back`).
    CLAWBACK = "CLAWBACK", "Taken back (payment refunded)"


# The types whose amount is negative: they take tokens away. Every other type adds.
DEBIT_TYPES = (TokenTransactionType.SPEND_ENHANCEMENT, TokenTransactionType.CLAWBACK)


class UserTokenBalance(TimestampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_balance"
    )
    balance = models.IntegerField(default=0)
    last_regeneration = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(balance__gte=0), name="token_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.user}: {self.balance}"


class TokenTransaction(models.Model):
    """The ledger. Append-only: for every user, sum(amount) == balance."""

    id = IdField()
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_transactions"
    )
    amount = models.IntegerField(help_text="Positive = earn, negative = spend")
    type = models.CharField(max_length=32, choices=TokenTransactionType.choices)
    source = models.CharField(max_length=64, null=True, blank=True)
    source_id = models.CharField(max_length=255, null=True, blank=True)
    balance_after = models.IntegerField()
    metadata = models.JSONField(null=True, blank=True)
    # Set where the caller can be retried (job id, payment intent, invoice, redemption): the
    # database refuses a second effect with the same key.
    idempotency_key = models.CharField(max_length=255, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="tokentx_user_created_idx"),
            models.Index(fields=["source", "source_id"], name="tokentx_source_idx"),
            # The back office's tokens spent and refunded by day (tokens.figures): read from the
            # index alone (amount is there to be read, not searched).
            models.Index(fields=["type", "created_at", "amount"], name="tokentx_type_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="tokentx_balance_after_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(type__in=DEBIT_TYPES) & Q(amount__lt=0))
                | (~Q(type__in=DEBIT_TYPES) & Q(amount__gt=0)),
                name="tokentx_amount_sign_matches_type",
            ),
        ]

    def __str__(self):
        return f"{self.type} {self.amount:+d} -> {self.balance_after}"


class TokensPackage(TimestampedModel):
    """A pack of tokens sold once. `price_usd` is in `currency` (the shop's, GBP by default)."""

    name = models.CharField(max_length=100)
    tokens = models.PositiveIntegerField()
    price_usd = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="gbp")
    stripe_price_id = models.CharField(max_length=255, unique=True)
    active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "price_usd"]
        constraints = [
            models.CheckConstraint(condition=Q(tokens__gt=0), name="package_tokens_positive"),
            models.CheckConstraint(
                condition=Q(price_usd__gte=0), name="package_price_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.tokens} tokens)"


class WelcomeGrant(models.Model):
    """An e-mail address that has had its welcome tokens (as a SHA-256 of the address in lower
    case, not the address itself). It outlives the account: deleting an account and signing up
    again with the same address gets no second welcome."""

    email_sha256 = models.CharField(max_length=64, primary_key=True)
    granted_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"welcome {self.email_sha256[:12]}…"
