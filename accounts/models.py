from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.fields import IdField, TimestampedModel
from core.validators import no_control_characters

PUBLIC_NAME_FALLBACK = "A Lumen member"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields["is_staff"] = True
        extra_fields["is_superuser"] = True
        return self._create_user(email, password, **extra_fields)


class User(AbstractBaseUser, PermissionsMixin):
    """The person. Signs in by email (allauth); `id` is stable across OAuth providers."""

    id = IdField()
    name = models.CharField(max_length=150, blank=True, null=True)
    email = models.EmailField(unique=True, null=True, blank=True)
    email_verified = models.DateTimeField(null=True, blank=True)
    image = models.URLField(max_length=500, blank=True, null=True)
    stripe_customer_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    # What other people see on shared and public pages; empty shows a neutral label. Never
    # derived from `email` or `name` (a real name from Google is not a public name).
    public_name = models.CharField(
        max_length=50, blank=True, default="", validators=[no_control_characters]
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
        ]

    def __str__(self):
        return self.email or self.id

    def get_full_name(self):
        return self.name or self.email or ""

    def get_short_name(self):
        return self.name or (self.email or "").split("@")[0]

    @property
    def public_label(self) -> str:
        """How this user is named to anyone else: the public name they chose, or a neutral
        label. Never any part of the e-mail address or the account's real name."""
        return self.public_name or PUBLIC_NAME_FALLBACK


class DataExportStatus(models.TextChoices):
    PENDING = "PENDING", "Waiting for a worker"
    RUNNING = "RUNNING", "Being prepared"
    READY = "READY", "Ready to download"
    FAILED = "FAILED", "Failed"
    EXPIRED = "EXPIRED", "Expired"


# The states of an export still being made: at most one per user at a time.
DATA_EXPORT_ACTIVE = (DataExportStatus.PENDING, DataExportStatus.RUNNING)


class DataExport(TimestampedModel):
    """One "Download my data": a zip of everything the user has here, built by a worker
    (`accounts.exports.builder`), kept at `storage_key` until `expires_at`, then deleted by the
    sweep. The stored zip follows the row: however a row is deleted (the user's account, a
    newer export, the admin), its file goes after the commit (`accounts.exports.signals`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(
        max_length=16, choices=DataExportStatus.choices, default=DataExportStatus.PENDING
    )
    # The zip's key in the default storage (under `exports/<id>/`), set when it is READY.
    storage_key = models.CharField(max_length=500, blank=True, default="")
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # What the user is told when it FAILED (short, never a stack trace).
    error_message = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user", "created_at"], name="dataexport_user_created_idx"),
            models.Index(fields=["status", "expires_at"], name="dataexport_status_expires_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["PENDING", "RUNNING"]),
                name="dataexport_one_active_per_user",
                violation_error_message="An export is already being prepared.",
            ),
            models.CheckConstraint(
                condition=~Q(status="READY")
                | (~Q(storage_key="") & Q(expires_at__isnull=False) & Q(size_bytes__isnull=False)),
                name="dataexport_ready_has_file",
            ),
        ]

    def __str__(self):
        return f"export {self.pk} of {self.user_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in DATA_EXPORT_ACTIVE
