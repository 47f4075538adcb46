"""Platform apps: an app, its requirements (with the history of their text) and its pricing.

The schema's three models (App, Requirement, MonetizationModel) with the rules of issue 14 as
database constraints, plus `RequirementRevision`, the earlier texts of a requirement (each edit
of the text raises `Requirement.version` and keeps the text it replaces here, so the history
can be listed, searched in the admin and never rewritten by a later edit).

What is public: an ACTIVE app (its page, requirements and pricing). A DELETED app is a soft
delete: hidden everywhere but the admin, restorable by staff (`services.restore_app`).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from core.fields import IdField, TimestampedModel
from core.text import has_control_characters
from core.validators import no_control_characters, no_control_characters_but_line_breaks
from platform_apps.domains import display_domain


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


# Every type but FREE has a price (FREEMIUM's is its paid tier's, USAGE_BASED's the price of a
# unit); only SUBSCRIPTION has an interval.
PRICED_TYPES = frozenset(MonetizationType.values) - {MonetizationType.FREE}
FEATURES_MAX = 30
FEATURE_MAX_LENGTH = 200


def validate_features(value) -> None:
    """A monetization model's features: a list of short one-line texts."""
    if not isinstance(value, list):
        raise ValidationError("Features must be a list of texts.", code="features_not_list")
    if len(value) > FEATURES_MAX:
        raise ValidationError(f"At most {FEATURES_MAX} features, please.", code="features_too_many")
    for feature in value:
        if not isinstance(feature, str) or not feature.strip():
            raise ValidationError("Each feature must be some text.", code="feature_not_text")
        if len(feature) > FEATURE_MAX_LENGTH:
            raise ValidationError(
                f"Each feature may have at most {FEATURE_MAX_LENGTH} characters.",
                code="feature_too_long",
            )
        if has_control_characters(feature):
            raise ValidationError(
                "A feature is one line of text, without control characters.",
                code="control_characters",
            )


class App(TimestampedModel):
    name = models.CharField(max_length=255, validators=[no_control_characters])
    description = models.TextField(
        null=True, blank=True, validators=[no_control_characters_but_line_breaks]
    )
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
    # Stored as `domains.normalize_domain` makes it: the IDNA (A-label) form, lower case, no
    # scheme, port, path or trailing dot. Unique as the schema says, and case-insensitively.
    domain = models.CharField(max_length=253, unique=True, null=True, blank=True)
    # When the app was soft-deleted (set exactly when status is DELETED).
    deleted_at = models.DateTimeField(null=True, blank=True)
    # What staff did to the app (restores): [{"action", "at", "by_id", "by", ...}].
    staff_actions = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # the public directory (ACTIVE, newest first) and "My apps" (newest first)
            models.Index(fields=["status", "-created_at"], name="app_status_created"),
            models.Index(fields=["user", "-created_at"], name="app_user_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(forked_from=models.F("id")), name="app_not_forked_from_itself"
            ),
            models.UniqueConstraint(
                Lower("domain"),
                name="app_domain_ci_unique",
                violation_error_message="Another app already uses this domain.",
            ),
            models.CheckConstraint(
                condition=~Q(domain=""),
                name="app_domain_not_blank",
                violation_error_message="Leave the domain empty rather than blank.",
            ),
            models.CheckConstraint(
                condition=(Q(status=AppStatus.DELETED) & Q(deleted_at__isnull=False))
                | (~Q(status=AppStatus.DELETED) & Q(deleted_at__isnull=True)),
                name="app_deleted_exactly_when_deleted_at",
                violation_error_message="Only a deleted app has a deletion time, and it must.",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_public(self) -> bool:
        return self.status == AppStatus.ACTIVE

    @property
    def is_deleted(self) -> bool:
        return self.status == AppStatus.DELETED

    @property
    def domain_display(self) -> str:
        """The domain as people read it (Unicode), e.g. `bücher.example` for
        `xn--bcher-kva.example`."""
        return display_domain(self.domain) if self.domain else ""


class Requirement(TimestampedModel):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="requirements")
    description = models.TextField(validators=[no_control_characters_but_line_breaks])
    priority = models.CharField(
        max_length=16, choices=RequirementPriority.choices, default=RequirementPriority.MEDIUM
    )
    status = models.CharField(
        max_length=16, choices=RequirementStatus.choices, default=RequirementStatus.PENDING
    )
    # 1 for the first text; each edit of the text adds one (the earlier text is a revision).
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


class RequirementRevision(models.Model):
    """An earlier text of a requirement: `description` was its text at `version`, until it was
    replaced at `created_at`. Written only by `services.update_requirement`, never changed."""

    id = IdField()
    requirement = models.ForeignKey(Requirement, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    description = models.TextField(validators=[no_control_characters_but_line_breaks])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["requirement", "version"], name="requirement_revision_unique_version"
            ),
        ]

    def __str__(self):
        return f"v{self.version}: {self.description[:60]}"


class MonetizationModel(TimestampedModel):
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="monetization_models")
    type = models.CharField(
        max_length=16, choices=MonetizationType.choices, default=MonetizationType.FREE
    )
    # In the shop's currency (settings.SHOP_CURRENCY), like every amount on the site.
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    subscription_interval = models.CharField(
        max_length=16, choices=SubscriptionInterval.choices, null=True, blank=True
    )
    features = models.JSONField(default=list, blank=True, validators=[validate_features])

    class Meta:
        ordering = ["created_at"]
        # PostgreSQL checks CHECK constraints in the order of their names, SQLite in this order:
        # `..._price_not_negative` comes first in both, so a negative price is named as such.
        constraints = [
            models.CheckConstraint(
                condition=Q(price__isnull=True) | Q(price__gte=0),
                name="monetization_price_not_negative",
            ),
            models.CheckConstraint(
                condition=(Q(type=MonetizationType.FREE) & Q(price__isnull=True))
                | (~Q(type=MonetizationType.FREE) & Q(price__isnull=False) & Q(price__gt=0)),
                name="monetization_price_set_when_paid",
                violation_error_message=(
                    "A free model has no price; every other type needs a price above zero."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(type="SUBSCRIPTION") | Q(subscription_interval__isnull=False),
                name="monetization_subscription_has_interval",
            ),
            models.CheckConstraint(
                condition=Q(type=MonetizationType.SUBSCRIPTION)
                | Q(subscription_interval__isnull=True),
                name="monetization_interval_only_for_subscription",
                violation_error_message="Only a subscription has a billing interval.",
            ),
        ]

    def __str__(self):
        return f"{self.app} {self.type}"
