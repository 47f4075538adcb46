"""Every factory of the tests, in one place.

One factory-boy `DjangoModelFactory` per model of the project. Each makes a VALID row by
default (every constraint holds), so a test overrides only what it is about: a constraint case
breaks exactly one rule, e.g. `ImageEnhancementJobFactory(tokens_cost=99)`. The model factories
write rows only: the keys of `EnhancedImageFactory` name objects that were never stored, and a
`TokenTransactionFactory` row moves no balance.

Two helpers go through the app's own paths instead:
- `stored_image()`: an image stored the way the upload view stores it (original and
  derivatives written to the storage, then the row);
- `fund()`: tokens granted through the ledger service (`UserFactory(balance=...)` uses it).
"""

from __future__ import annotations

import hashlib
import itertools
from datetime import timedelta
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_save
from django.utils import timezone

from accounts.models import DataExport, DataExportStatus
from albums.models import Album, AlbumImage, AlbumPrivacy, DailyView, Unpublication
from billing.models import (
    StripePayment,
    Subscription,
    SubscriptionPlan,
    SubscriptionStatus,
)
from core.ids import new_id, new_share_token
from enhancement import imaging, storage
from enhancement.images import services as image_services
from enhancement.models import (
    ApiKey,
    DeletedJob,
    EnhancedImage,
    EnhancementTier,
    ImageEnhancementJob,
    JobStatus,
    WebhookDelivery,
    WebhookEndpoint,
)
from platform_apps.models import (
    App,
    AppStatus,
    MonetizationModel,
    MonetizationType,
    Requirement,
    RequirementRevision,
    SubscriptionInterval,
)
from tests import images
from tokens import services as token_services
from tokens.models import (
    TokensPackage,
    TokenTransaction,
    TokenTransactionType,
    UserTokenBalance,
    WelcomeGrant,
)
from vouchers.models import Voucher, VoucherRedemption, VoucherType

DEFAULT_PASSWORD = "correct-horse-battery-staple"

_grants = itertools.count()


# --- accounts ---------------------------------------------------------------------------------
class UserFactory(factory.django.DjangoModelFactory):
    """A user who can sign in with `DEFAULT_PASSWORD`. The tokens app gives every new user a
    balance row (a signal); `UserFactory(balance=30)` also grants 30 tokens through the ledger."""

    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("first_name")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def balance(obj, create, extracted, **kwargs):
        if create and extracted:
            fund(obj, extracted)


def verified_user(email: str = "alice@example.com"):
    """A user whose email address allauth knows as verified and primary (can sign in)."""
    user = UserFactory(email=email)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


class DataExportFactory(factory.django.DjangoModelFactory):
    """A "Download my data" export waiting for its worker (a row only). `ready=True` gives a
    READY row naming a zip that was never stored (for its file, build it with the builder)."""

    class Meta:
        model = DataExport

    class Params:
        ready = factory.Trait(
            status=DataExportStatus.READY,
            storage_key=factory.LazyAttribute(lambda o: f"exports/{o.id}/lumen-export.zip"),
            size_bytes=1234,
            finished_at=factory.LazyFunction(timezone.now),
            expires_at=factory.LazyFunction(lambda: timezone.now() + timedelta(days=7)),
        )

    id = factory.LazyFunction(new_id)
    user = factory.SubFactory(UserFactory)
    status = DataExportStatus.PENDING


# --- tokens -----------------------------------------------------------------------------------
@factory.django.mute_signals(post_save)
class UserTokenBalanceFactory(factory.django.DjangoModelFactory):
    """A balance row for a new user made without one (the signal that gives every user their
    row is muted while this factory runs). Given an existing `user`, it is that user's second
    row: the database refuses it."""

    class Meta:
        model = UserTokenBalance

    user = factory.SubFactory(UserFactory)
    balance = 0
    last_regeneration = factory.LazyFunction(timezone.now)


class TokenTransactionFactory(factory.django.DjangoModelFactory):
    """A ledger row only (no balance moves): for a real grant, `fund()`."""

    class Meta:
        model = TokenTransaction

    user = factory.SubFactory(UserFactory)
    type = TokenTransactionType.EARN_BONUS
    amount = factory.LazyAttribute(
        lambda o: -5 if o.type == TokenTransactionType.SPEND_ENHANCEMENT else 5
    )
    source = "test"
    balance_after = factory.LazyAttribute(lambda o: max(o.amount, 0))


class TokensPackageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TokensPackage

    name = factory.Sequence(lambda n: f"Pack {n}")
    tokens = 10
    price_usd = Decimal("2.99")
    stripe_price_id = factory.Sequence(lambda n: f"price_test_{n:06d}")


def fund(user, amount: int) -> TokenTransaction:
    """Grant `amount` tokens to `user` as a bonus, through the ledger (balance and entry)."""
    return token_services.grant(
        user=user,
        amount=amount,
        type=TokenTransactionType.EARN_BONUS,
        source="test",
        idempotency_key=f"test-grant:{next(_grants)}:{user.pk}",
    )


# --- billing ----------------------------------------------------------------------------------
class SubscriptionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionPlan

    name = factory.Sequence(lambda n: f"Plan {n}")
    tokens_per_month = 30
    price_gbp = Decimal("4.99")
    stripe_price_id = factory.Sequence(lambda n: f"price_plan_{n:06d}")


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """An active subscription in its first month (no plan row is needed: it names the price)."""

    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test_{n:06d}")
    stripe_price_id = factory.Sequence(lambda n: f"price_plan_{n:06d}")
    status = SubscriptionStatus.ACTIVE
    current_period_start = factory.LazyFunction(timezone.now)
    current_period_end = factory.LazyAttribute(
        lambda o: o.current_period_start + timedelta(days=30)
    )
    tokens_per_month = 30
    rollover_tokens = 0
    max_rollover = 30


class StripePaymentFactory(factory.django.DjangoModelFactory):
    """A package bought once: the tokens and the amount are the package's."""

    class Meta:
        model = StripePayment

    user = factory.SubFactory(UserFactory)
    package = factory.SubFactory(TokensPackageFactory)
    tokens_granted = factory.LazyAttribute(lambda o: o.package.tokens)
    amount_usd = factory.LazyAttribute(lambda o: o.package.price_usd)
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test_{n:06d}")


# --- enhancement ------------------------------------------------------------------------------
class EnhancedImageFactory(factory.django.DjangoModelFactory):
    """A row only: its keys name objects that do not exist (fast, for pages and queries). For an
    image with its files, `stored_image()`."""

    class Meta:
        model = EnhancedImage

    id = factory.LazyFunction(new_id)
    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Photo {n}")
    original_width = 640
    original_height = 480
    original_size_bytes = 12345
    original_format = "jpeg"
    original_r2_key = factory.LazyAttribute(
        lambda o: storage.original_key(image_id=o.id, extension="jpg")
    )
    thumbnail_r2_key = factory.LazyAttribute(lambda o: storage.thumbnail_key(image_id=o.id))
    preview_r2_key = factory.LazyAttribute(lambda o: storage.preview_key(image_id=o.id))


class ImageEnhancementJobFactory(factory.django.DjangoModelFactory):
    """A job of the image's owner at its tier's cost; a COMPLETED one names a result key."""

    class Meta:
        model = ImageEnhancementJob

    image = factory.SubFactory(EnhancedImageFactory)
    user = factory.LazyAttribute(lambda o: o.image.user)
    tier = EnhancementTier.TIER_2K
    tokens_cost = factory.LazyAttribute(lambda o: settings.ENHANCEMENT_TIERS[o.tier]["tokens_cost"])
    status = JobStatus.PENDING
    enhanced_r2_key = factory.LazyAttribute(
        lambda o: (
            storage.job_result_key(image_id=o.image.pk, job_id="j" + new_id()[1:], extension="jpg")
            if o.status == JobStatus.COMPLETED
            else None
        )
    )


def stored_image(
    user,
    *,
    data: bytes | None = None,
    width: int = 64,
    height: int = 48,
    name: str = "Beach.jpg",
) -> EnhancedImage:
    """An image stored the way the upload view stores it: `data` (by default a `width` x
    `height` JPEG) checked and normalized, the original and its derivatives written to the
    storage, then the row."""
    normalized = imaging.normalize_upload(
        data if data is not None else images.jpeg_bytes(width, height),
        limits=imaging.UploadLimits(),
    )
    return image_services.create_image(user=user, name=name, normalized=normalized)


def upload_file(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    """A file as a browser posts it to the upload form."""
    return SimpleUploadedFile(name, data, content_type=content_type)


# --- albums -----------------------------------------------------------------------------------
class DeletedJobFactory(factory.django.DjangoModelFactory):
    """What a deleted job leaves for the ledger (no foreign keys: it outlives its rows)."""

    class Meta:
        model = DeletedJob

    id = factory.LazyFunction(new_id)
    user_id = factory.LazyFunction(new_id)
    image_id = factory.LazyFunction(new_id)
    tier = EnhancementTier.TIER_1K
    tokens_cost = 2
    status = JobStatus.COMPLETED
    created_at = factory.LazyFunction(timezone.now)


class WelcomeGrantFactory(factory.django.DjangoModelFactory):
    """An address that had its welcome tokens (hashed)."""

    class Meta:
        model = WelcomeGrant

    email_sha256 = factory.Sequence(
        lambda n: hashlib.sha256(f"user{n}@example.com".encode()).hexdigest()
    )


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """An API key row (only its hash is stored; the key itself is never kept)."""

    class Meta:
        model = ApiKey

    user = factory.SubFactory(UserFactory)
    name = "Test key"
    prefix = factory.Sequence(lambda n: f"lum_{n:08d}")
    key_hash = factory.Sequence(lambda n: hashlib.sha256(f"key{n}".encode()).hexdigest())


class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookEndpoint

    user = factory.SubFactory(UserFactory)
    url = "https://hooks.example.com/lumen"
    secret = factory.Sequence(lambda n: f"whsec_{n:032d}")


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDelivery

    endpoint = factory.SubFactory(WebhookEndpointFactory)
    event_type = "job.completed"
    job_id = factory.LazyFunction(new_id)
    payload = factory.LazyAttribute(lambda o: {"type": o.event_type, "job": o.job_id})
    give_up_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))


class AlbumFactory(factory.django.DjangoModelFactory):
    """A private album; a shared one (UNLISTED or PUBLIC) gets a share token."""

    class Meta:
        model = Album

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Album {n}")
    privacy = AlbumPrivacy.PRIVATE
    share_token = factory.LazyAttribute(
        lambda o: None if o.privacy == AlbumPrivacy.PRIVATE else new_share_token()
    )


class AlbumImageFactory(factory.django.DjangoModelFactory):
    """An image of the album's owner, in the album."""

    class Meta:
        model = AlbumImage

    album = factory.SubFactory(AlbumFactory)
    image = factory.SubFactory(EnhancedImageFactory, user=factory.SelfAttribute("..album.user"))


class UnpublicationFactory(factory.django.DjangoModelFactory):
    """Staff's record of an image taken off public view (a row only: for the real effect,
    `albums.services.unpublish_image` / `unpublish_album`)."""

    class Meta:
        model = Unpublication

    image = factory.SubFactory(EnhancedImageFactory)
    album = None
    reason = "Not suitable for the public gallery."


class DailyViewFactory(factory.django.DjangoModelFactory):
    """One visitor's view of an image (or album) on one day."""

    class Meta:
        model = DailyView

    object_id = factory.LazyFunction(new_id)
    visitor_key = factory.Sequence(lambda n: f"u:visitor{n}")
    day = factory.LazyFunction(timezone.localdate)


# --- vouchers ---------------------------------------------------------------------------------
class VoucherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Voucher

    code = factory.Sequence(lambda n: f"CODE{n:06d}")
    type = VoucherType.FIXED_TOKENS
    value = 10


class VoucherRedemptionFactory(factory.django.DjangoModelFactory):
    """A row only (the voucher's use count and the user's balance do not move)."""

    class Meta:
        model = VoucherRedemption

    voucher = factory.SubFactory(VoucherFactory)
    user = factory.SubFactory(UserFactory)
    tokens_granted = factory.LazyAttribute(
        lambda o: o.voucher.value if o.voucher.type == VoucherType.FIXED_TOKENS else 0
    )


# --- platform apps ----------------------------------------------------------------------------
class AppFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = App

    user = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"App {n}")
    status = AppStatus.DRAFT


class RequirementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Requirement

    app = factory.SubFactory(AppFactory)
    description = factory.Sequence(lambda n: f"Requirement {n}")
    version = 1


class RequirementRevisionFactory(factory.django.DjangoModelFactory):
    """An earlier text of a requirement (its current version is one more)."""

    class Meta:
        model = RequirementRevision

    requirement = factory.SubFactory(RequirementFactory, version=2)
    version = 1
    description = factory.Sequence(lambda n: f"Earlier requirement {n}")


class MonetizationModelFactory(factory.django.DjangoModelFactory):
    """Free by default; a subscription gets a monthly interval."""

    class Meta:
        model = MonetizationModel

    app = factory.SubFactory(AppFactory)
    type = MonetizationType.FREE
    price = factory.LazyAttribute(
        lambda o: None if o.type == MonetizationType.FREE else Decimal("4.99")
    )
    subscription_interval = factory.LazyAttribute(
        lambda o: SubscriptionInterval.MONTHLY if o.type == MonetizationType.SUBSCRIPTION else None
    )
