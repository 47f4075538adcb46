from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import TimestampedModel


class StripePaymentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    CANCELED = "CANCELED", "Canceled"
    PAST_DUE = "PAST_DUE", "Past due"
    UNPAID = "UNPAID", "Unpaid"
    TRIALING = "TRIALING", "Trialing"


class StripePayment(TimestampedModel):
    """A token pack bought once through Stripe Checkout, written only by the verified webhook
    (`billing.services.fulfil_checkout_session`): one row per Checkout Session.

    `amount_usd` is what Stripe charged, in `currency` (the shop's, GBP by default).
    `tokens_granted` is what the payment bought (the pack's tokens, plus any purchase bonus);
    `tokens_clawed_back` how many of them refunds and lost disputes have accounted for so far
    (taken back as far as the balance allowed)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_payments"
    )
    package = models.ForeignKey(
        "tokens.TokensPackage", on_delete=models.PROTECT, related_name="stripe_payments"
    )
    tokens_granted = models.PositiveIntegerField()
    amount_usd = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="gbp")
    stripe_checkout_session_id = models.CharField(
        max_length=255, unique=True, null=True, blank=True
    )
    # None only for a Checkout that needed no payment (a 100 % discount).
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=StripePaymentStatus.choices, default=StripePaymentStatus.PENDING
    )
    receipt_url = models.URLField(max_length=2000, blank=True, default="")
    amount_refunded = models.DecimalField(max_digits=10, decimal_places=2, default=0)
    tokens_clawed_back = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_usd__gte=0), name="payment_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0)
                & Q(amount_refunded__lte=models.F("amount_usd")),
                name="payment_refund_within_amount",
            ),
            models.CheckConstraint(
                condition=Q(tokens_clawed_back__lte=models.F("tokens_granted")),
                name="payment_clawback_within_grant",
            ),
        ]

    def __str__(self):
        return f"{self.stripe_payment_intent_id} ({self.status})"


class Subscription(TimestampedModel):
    """A user's plan, following their Stripe subscription through the webhooks
    (`billing.subscriptions`). One per user: a new subscription after a cancelled one takes
    over the row.

    `stripe_price_id` and `plan` are what Stripe bills now (a downgrade shows here at once and
    gives its tokens from the next period). `tokens_per_month` and `rollover_tokens` are the
    allowance of the period whose tokens were granted last (`tokens_period_start`): the
    rollover rule of `billing.rollover` reads them at the next renewal."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscription"
    )
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_price_id = models.CharField(max_length=255)
    plan = models.ForeignKey(
        "billing.SubscriptionPlan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="subscriptions",
        help_text="The plan of the price Stripe bills (empty: a price of no plan of ours)",
    )
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    trial_end = models.DateTimeField(null=True, blank=True)
    tokens_per_month = models.PositiveIntegerField()
    rollover_tokens = models.PositiveIntegerField(default=0)
    max_rollover = models.PositiveIntegerField(default=0, help_text="0 = unlimited")
    tokens_period_start = models.DateTimeField(
        null=True, blank=True, help_text="Start of the last period whose tokens were granted"
    )
    # What staff did to it, and who ({"action", "by", "by_email", "at", ...}), oldest first.
    staff_actions = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(current_period_end__gte=models.F("current_period_start")),
                name="subscription_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(max_rollover=0) | Q(rollover_tokens__lte=models.F("max_rollover")),
                name="subscription_rollover_within_max",
            ),
        ]

    def __str__(self):
        return f"{self.user} {self.stripe_price_id} ({self.status})"


class SubscriptionPlan(TimestampedModel):
    name = models.CharField(max_length=100)
    tokens_per_month = models.PositiveIntegerField()
    price_gbp = models.DecimalField(max_digits=10, decimal_places=2)
    stripe_price_id = models.CharField(max_length=255, unique=True)
    max_rollover = models.PositiveIntegerField(default=0, help_text="0 = unlimited")
    priority = models.BooleanField(default=False, help_text="Jobs go through the priority queue")
    api_access = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)

    class Meta:
        ordering = ["sort_order", "price_gbp"]
        constraints = [
            models.CheckConstraint(
                condition=Q(tokens_per_month__gt=0), name="plan_tokens_positive"
            ),
            models.CheckConstraint(condition=Q(price_gbp__gte=0), name="plan_price_not_negative"),
        ]

    def __str__(self):
        return self.name
