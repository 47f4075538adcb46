from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.fields import IdField, TimestampedModel

# Codes as people type them: case, spaces and dashes do not matter ("spring-abcd efgh" is
# SPRINGABCDEFGH). Stored normalised, so the unique index on `code` is on the normalised form.
CODE_MAX_LENGTH = 24


def normalise_code(raw: str) -> str:
    """The code as stored and looked up: upper case, spaces and dashes removed."""
    return "".join(ch for ch in str(raw) if not ch.isspace() and ch != "-").upper()


class VoucherType(models.TextChoices):
    FIXED_TOKENS = "FIXED_TOKENS", "Fixed tokens"
    PERCENTAGE_BONUS = "PERCENTAGE_BONUS", "Percentage bonus on next purchase"
    SUBSCRIPTION_TRIAL = "SUBSCRIPTION_TRIAL", "Subscription trial"


class VoucherStatus(models.TextChoices):
    ACTIVE = "ACTIVE", "Active"
    INACTIVE = "INACTIVE", "Inactive"
    EXPIRED = "EXPIRED", "Expired"
    DEPLETED = "DEPLETED", "Depleted"


class Voucher(TimestampedModel):
    code = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=32, choices=VoucherType.choices)
    value = models.PositiveIntegerField(help_text="Token amount, or percentage")
    max_uses = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = unlimited")
    current_uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=VoucherStatus.choices, default=VoucherStatus.ACTIVE
    )
    metadata = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["code"], name="voucher_code_idx"),
            models.Index(fields=["status", "expires_at"], name="voucher_status_expires_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(max_uses__isnull=True) | Q(current_uses__lte=F("max_uses")),
                name="voucher_uses_within_max",
            ),
            models.CheckConstraint(condition=Q(value__gt=0), name="voucher_value_positive"),
            models.CheckConstraint(
                condition=~Q(type="PERCENTAGE_BONUS") | Q(value__lte=100),
                name="voucher_percentage_at_most_100",
            ),
        ]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.code = normalise_code(self.code)
        super().save(*args, **kwargs)

    @property
    def is_held(self) -> bool:
        """A bonus or trial that waits for a later purchase (not tokens granted at once)."""
        return self.type != VoucherType.FIXED_TOKENS


class VoucherRedemption(models.Model):
    id = IdField()
    voucher = models.ForeignKey(Voucher, on_delete=models.PROTECT, related_name="redemptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="voucher_redemptions"
    )
    tokens_granted = models.PositiveIntegerField(default=0)
    redeemed_at = models.DateTimeField(default=timezone.now)
    # A held bonus or trial: when it met its purchase, and which (the Checkout Session, or the
    # subscription that had the trial). Empty while it waits; FIXED_TOKENS are applied at once.
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_to = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-redeemed_at"]
        constraints = [
            models.UniqueConstraint(fields=["voucher", "user"], name="voucher_redemption_once"),
        ]
        indexes = [
            models.Index(fields=["user", "applied_at"], name="voucher_redemption_waiting_idx"),
        ]

    def __str__(self):
        return f"{self.voucher_id} by {self.user_id}"
