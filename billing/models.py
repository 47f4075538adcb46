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
    """A token pack bought once. `amount_usd` is in `currency` (the shop's, GBP by default)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="stripe_payments"
    )
    package = models.ForeignKey(
        "tokens.TokensPackage", on_delete=models.PROTECT, related_name="stripe_payments"
    )
    tokens_granted = models.PositiveIntegerField()
    amount_usd = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="gbp")
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True)
    status = models.CharField(
        max_length=16, choices=StripePaymentStatus.choices, default=StripePaymentStatus.PENDING
    )
    metadata = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_usd__gte=0), name="payment_amount_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.stripe_payment_intent_id} ({self.status})"


class Subscription(TimestampedModel):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="subscription"
    )
    stripe_subscription_id = models.CharField(max_length=255, unique=True)
    stripe_price_id = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=SubscriptionStatus.choices)
    current_period_start = models.DateTimeField()
    current_period_end = models.DateTimeField()
    cancel_at_period_end = models.BooleanField(default=False)
    tokens_per_month = models.PositiveIntegerField()
    rollover_tokens = models.PositiveIntegerField(default=0)
    max_rollover = models.PositiveIntegerField(default=0, help_text="0 = unlimited")

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
