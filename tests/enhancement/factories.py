"""Factories for images and enhancement jobs.

`EnhancedImageFactory` makes a row only (its keys name objects that do not exist): fast, for
pages and queries. `stored_image()` goes through the real upload path and writes every object.
"""

import factory
from django.conf import settings

from core.ids import new_id
from enhancement import imaging, storage
from enhancement.images import services
from enhancement.models import EnhancedImage, EnhancementTier, ImageEnhancementJob, JobStatus
from tests import images
from tests.factories import UserFactory


class EnhancedImageFactory(factory.django.DjangoModelFactory):
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
        lambda o: storage.original_key(user_id=o.user.pk, image_id=o.id, extension="jpg")
    )
    thumbnail_r2_key = factory.LazyAttribute(
        lambda o: storage.thumbnail_key(user_id=o.user.pk, image_id=o.id)
    )
    preview_r2_key = factory.LazyAttribute(
        lambda o: storage.preview_key(user_id=o.user.pk, image_id=o.id)
    )


class ImageEnhancementJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImageEnhancementJob

    image = factory.SubFactory(EnhancedImageFactory)
    user = factory.LazyAttribute(lambda o: o.image.user)
    tier = EnhancementTier.TIER_2K
    tokens_cost = factory.LazyAttribute(lambda o: settings.ENHANCEMENT_TIERS[o.tier]["tokens_cost"])
    status = JobStatus.PENDING
    enhanced_r2_key = factory.LazyAttribute(
        lambda o: (
            storage.job_result_key(
                user_id=o.user.pk, image_id=o.image.pk, job_id="j" + new_id()[1:], extension="jpg"
            )
            if o.status == JobStatus.COMPLETED
            else None
        )
    )


def stored_image(user, data: bytes | None = None, *, name: str = "Stored photo") -> EnhancedImage:
    """An image with its original and derivatives really written to the storage."""
    normalized = imaging.normalize_upload(
        data if data is not None else images.jpeg_bytes(120, 90),
        limits=imaging.UploadLimits(),
    )
    return services.create_image(user=user, name=name, normalized=normalized)
