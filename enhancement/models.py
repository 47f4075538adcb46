from django.conf import settings
from django.db import models
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from core.fields import TimestampedModel
from core.validators import no_control_characters, no_control_characters_but_line_breaks
from enhancement import storage


class EnhancementTier(models.TextChoices):
    TIER_1K = "TIER_1K", "1K"
    TIER_2K = "TIER_2K", "2K"
    TIER_4K = "TIER_4K", "4K"


class JobStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PROCESSING = "PROCESSING", "Processing"
    COMPLETED = "COMPLETED", "Completed"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


def _tier_cost_condition() -> Q:
    """Each tier's cost, as a database constraint, from `settings.ENHANCEMENT_TIERS`."""
    condition = Q()
    for tier, spec in settings.ENHANCEMENT_TIERS.items():
        condition |= Q(tier=tier, tokens_cost=spec["tokens_cost"])
    return condition


# The error_message of a job its owner cancelled (REFUNDED): pages show it as cancelled, not
# as a failure.
JOB_CANCELLED_MESSAGE = "You cancelled this enhancement."


class EnhancedImage(TimestampedModel):
    """An uploaded original, kept as uploaded. Its files live under `images/<image>/` (private)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enhanced_images"
    )
    name = models.CharField(max_length=255, validators=[no_control_characters])
    description = models.TextField(
        null=True, blank=True, validators=[no_control_characters_but_line_breaks]
    )
    # The storage key of the original; `original_url` (a property) is what storage gives for it.
    original_r2_key = models.FileField(max_length=500)
    original_width = models.PositiveIntegerField()
    original_height = models.PositiveIntegerField()
    original_size_bytes = models.PositiveIntegerField()
    original_format = models.CharField(max_length=16)
    thumbnail_r2_key = models.FileField(max_length=500, blank=True)
    preview_r2_key = models.FileField(max_length=500, blank=True)
    is_public = models.BooleanField(default=False)
    view_count = models.PositiveIntegerField(default=0)
    # What the photo's EXIF says, read at upload for the image page: camera, lens, taken_at.
    photo_facts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="image_user_created_idx"),
            models.Index(fields=["is_public", "created_at"], name="image_public_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(original_width__gt=0) & Q(original_height__gt=0),
                name="image_dimensions_positive",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def original_url(self) -> str:
        # Always signed: an original may carry EXIF (or GPS, if its owner kept it), so it never
        # goes out on the public domain even when the image is in the gallery.
        return storage.url_for(self.original_r2_key.name)


class ImageEnhancementJob(TimestampedModel):
    image = models.ForeignKey(
        EnhancedImage, on_delete=models.CASCADE, related_name="enhancement_jobs"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="enhancement_jobs"
    )
    tier = models.CharField(max_length=16, choices=EnhancementTier.choices)
    tokens_cost = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.PENDING)
    enhanced_r2_key = models.FileField(max_length=500, null=True, blank=True)
    enhanced_preview_r2_key = models.FileField(max_length=500, null=True, blank=True)
    enhanced_width = models.PositiveIntegerField(null=True, blank=True)
    enhanced_height = models.PositiveIntegerField(null=True, blank=True)
    enhanced_size_bytes = models.PositiveIntegerField(null=True, blank=True)
    enhanced_format = models.CharField(max_length=16, null=True, blank=True)
    error_message = models.TextField(null=True, blank=True)
    retry_count = models.PositiveIntegerField(default=0)
    max_retries = models.PositiveIntegerField(default=3)
    gemini_prompt = models.TextField(null=True, blank=True)
    engine = models.CharField(max_length=32, blank=True, default="")
    # A form's one-time key: a double-click or a resubmitted form finds the job it made.
    request_key = models.CharField(max_length=64, unique=True, null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    processing_started_at = models.DateTimeField(null=True, blank=True)
    processing_completed_at = models.DateTimeField(null=True, blank=True)
    # The running attempt's lease: the worker renews it while the engine works; the sweeper
    # takes a PROCESSING job whose lease lapsed for one whose worker died.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The user's choice: automatic light-and-colour correction on top of the enhancement.
    auto_adjust = models.BooleanField(default=False)
    # Who retried or refunded this job by hand, oldest first: {"action", "at", "by_id", "by"}.
    staff_actions = models.JSONField(default=list, blank=True)
    # What the engine used, added up over every attempt that reported it (a retried job cost
    # more): the model of the last one, Gemini's token counts, wall and CPU seconds, and the
    # estimated cost in USD from settings.ENGINE_PRICES (enhancement.engines.usage). Empty for
    # a job no engine has answered yet, and for jobs made before this was kept.
    engine_model = models.CharField(max_length=100, blank=True, default="")
    engine_input_tokens = models.PositiveIntegerField(null=True, blank=True)
    engine_output_tokens = models.PositiveIntegerField(null=True, blank=True)
    engine_seconds = models.DecimalField(
        "engine wall seconds", max_digits=10, decimal_places=3, null=True, blank=True
    )
    engine_cpu_seconds = models.DecimalField(
        "engine CPU seconds", max_digits=10, decimal_places=3, null=True, blank=True
    )
    engine_cost_usd = models.DecimalField(
        "estimated engine cost (USD)", max_digits=12, decimal_places=6, null=True, blank=True
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["user", "status", "created_at"], name="job_user_status_created_idx"
            ),
            models.Index(fields=["image"], name="job_image_idx"),
            models.Index(fields=["status", "updated_at"], name="job_status_updated_idx"),
            # The back office's figures by day (config.backoffice): a range of days read from
            # the index alone (the columns after created_at are there to be read, not searched;
            # not INCLUDE, which SQLite lacks).
            models.Index(
                fields=["created_at", "tier", "status", "engine_cost_usd"],
                name="job_created_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=_tier_cost_condition(), name="job_cost_matches_tier"),
            models.CheckConstraint(
                condition=Q(retry_count__lte=models.F("max_retries")),
                name="job_retry_count_within_max",
            ),
            models.CheckConstraint(
                condition=~Q(status="COMPLETED")
                | (Q(enhanced_r2_key__isnull=False) & ~Q(enhanced_r2_key="")),
                name="job_completed_has_result",
            ),
            models.CheckConstraint(
                condition=(Q(engine_cost_usd__isnull=True) | Q(engine_cost_usd__gte=0))
                & (Q(engine_seconds__isnull=True) | Q(engine_seconds__gte=0))
                & (Q(engine_cpu_seconds__isnull=True) | Q(engine_cpu_seconds__gte=0)),
                name="job_engine_usage_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.get_tier_display()} of {self.image_id} ({self.status})"

    @property
    def enhanced_url(self) -> str | None:
        if not self.enhanced_r2_key:
            return None
        return storage.url_for(self.enhanced_r2_key.name, public=False)

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.COMPLETED, JobStatus.REFUNDED)


class DeletedJob(models.Model):
    """What is left of an enhancement job after its row was deleted (with its image, or through
    `transitions.delete_job`): enough for the ledger's SPEND and REFUND rows, which keep the
    job's id as their `source_id`, to point at a record (`check_ledger` reports rows that point
    at nothing). Written by a `pre_delete` signal, so every way a job row goes leaves one.
    No foreign keys: it outlives the job, its image and (until the account's data is purged)
    its user."""

    id = models.CharField(primary_key=True, max_length=25)  # the job's id
    user_id = models.CharField(max_length=25, db_index=True)
    image_id = models.CharField(max_length=25)
    tier = models.CharField(max_length=16, choices=EnhancementTier.choices)
    tokens_cost = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=JobStatus.choices)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(default=timezone.now)
    # What its engine work cost (the job's `engine_cost_usd`): the back office still counts it.
    engine_cost_usd = models.DecimalField(
        "estimated engine cost (USD)", max_digits=12, decimal_places=6, null=True, blank=True
    )

    class Meta:
        ordering = ["-deleted_at"]
        indexes = [
            models.Index(
                fields=["created_at", "tier", "status", "engine_cost_usd"],
                name="deletedjob_created_idx",
            ),
        ]

    def __str__(self):
        return f"deleted job {self.id} ({self.status})"


# --- the public API (enhancement/api/): keys, webhook endpoints, deliveries --------------------
# Sent (after the commit) when a job reaches COMPLETED or REFUNDED, with `job_id` and `status`:
# the API's webhooks listen (enhancement.api), so the job verbs never import the API.
job_finished = Signal()


class ApiKey(TimestampedModel):
    """A secret that authenticates API calls as its user. Only a SHA-256 of the key is kept
    (the key has 256 random bits, so a fast hash is enough); `prefix` is its first characters,
    shown so its owner can tell keys apart."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, validators=[no_control_characters])
    prefix = models.CharField(max_length=16)
    key_hash = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"], name="apikey_user_created_idx")]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class WebhookEndpoint(TimestampedModel):
    """A URL of the user's that receives job events, signed with this endpoint's secret."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.url


class DeliveryStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Delivered"
    FAILED = "FAILED", "Failed"


class WebhookDelivery(TimestampedModel):
    """One event for one endpoint, and how its sending went. The event is made once per
    (endpoint, event type, job): a signal sent twice makes no second delivery."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_type = models.CharField(max_length=32)
    job_id = models.CharField(max_length=25)  # no foreign key: the log outlives a deleted job
    payload = models.JSONField()
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_type", "job_id"], name="delivery_once_per_event"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.job_id} -> {self.endpoint_id} ({self.status})"
