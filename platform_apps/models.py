from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import TimestampedModel


class AppStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    ACTIVE = "ACTIVE", "Active"
    ARCHIVED = "ARCHIVED", "Archived"
    DELETED = "DELETED", "Deleted"


class RequirementPriority(models.TextChoices):
    LOW = "LOW", "Low"
    MEDIUM = "MEDIUM", "Medium"
    HIGH = "HIGH", "High"
    CRITICAL = "CRITICAL", "Critical"


class RequirementStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    IN_PROGRESS = "IN_PROGRESS", "In progress"
    COMPLETED = "COMPLETED", "Completed"
    REJECTED = "REJECTED", "Rejected"


class MonetizationType(models.TextChoices):
    FREE = "FREE", "Free"
    ONE_TIME = "ONE_TIME", "One-time purchase"
    SUBSCRIPTION = "SUBSCRIPTION", "Subscription"
    FREEMIUM = "FREEMIUM", "Freemium"
    USAGE_BASED = "USAGE_BASED", "Usage-based"


class SubscriptionInterval(models.TextChoices):
    MONTHLY = "MONTHLY", "Monthly"
    YEARLY = "YEARLY", "Yearly"


class App(TimestampedModel):
    name = models.CharField(max_length=255)
    description = models.TextField(null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="apps"
    )
    forked_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forks",
        db_column="forked_from",
    )
    status = models.CharField(max_length=16, choices=AppStatus.choices, default=AppStatus.DRAFT)
    domain = models.CharField(max_length=253, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(forked_from=models.F("id")), name="app_not_forked_from_itself"
            ),
        ]

    def __str__(self):
        return self.name


class Requirement(TimestampedModel):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="requirements")
    description = models.TextField()
    priority = models.CharField(
        max_length=16, choices=RequirementPriority.choices, default=RequirementPriority.MEDIUM
    )
    status = models.CharField(
        max_length=16, choices=RequirementStatus.choices, default=RequirementStatus.PENDING
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(version__gte=1), name="requirement_version_positive"
            ),
        ]

    def __str__(self):
        return self.description[:60]


class MonetizationModel(TimestampedModel):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="monetization_models")
    type = models.CharField(
        max_length=16, choices=MonetizationType.choices, default=MonetizationType.FREE
    )
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    subscription_interval = models.CharField(
        max_length=16, choices=SubscriptionInterval.choices, null=True, blank=True
    )
    features = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="monetization_price_not_negative",
            ),
            models.CheckConstraint(
                condition=~Q(type="SUBSCRIPTION") | Q(subscription_interval__isnull=False),
                name="monetization_subscription_has_interval",
            ),
        ]

    def __str__(self):
        return f"{self.app} {self.type}"
