"""Images with real stored files, funded users, and jobs in a given state, for the job tests."""

from __future__ import annotations

import io
import itertools

from django.conf import settings
from PIL import Image

from config.ids import new_id
from enhancement import imaging, storage
from enhancement.models import EnhancedImage
from tokens import services as tokens
from tokens.models import TokenTransactionType

_grants = itertools.count()


def jpeg(width: int, height: int) -> bytes:
    try:
        from tests.images import jpeg_bytes
    except ImportError:  # pragma: no cover - tests/images.py is another helper's
        buffer = io.BytesIO()
        Image.linear_gradient("L").convert("RGB").resize((width, height)).save(buffer, "JPEG")
        return buffer.getvalue()
    return jpeg_bytes(width, height)


def make_image(
    user, *, width: int = 64, height: int = 48, name: str = "Beach.jpg"
) -> EnhancedImage:
    """An EnhancedImage row whose original (and preview) really are in the storage."""
    image_id = new_id()
    data = jpeg(width, height)
    original = storage.save_bytes(
        storage.original_key(user_id=user.pk, image_id=image_id, extension="jpg"),
        data,
        content_type="image/jpeg",
    )
    preview_data, _, _ = imaging.make_derivative(
        data, max_dimension=settings.DERIVATIVE_PREVIEW_MAX
    )
    preview = storage.save_bytes(
        storage.preview_key(user_id=user.pk, image_id=image_id),
        preview_data,
        content_type="image/webp",
    )
    return EnhancedImage.objects.create(
        id=image_id,
        user=user,
        name=name,
        original_r2_key=original,
        preview_r2_key=preview,
        original_width=width,
        original_height=height,
        original_size_bytes=len(data),
        original_format="jpeg",
    )


def fund(user, amount: int) -> None:
    tokens.grant(
        user=user,
        amount=amount,
        type=TokenTransactionType.EARN_BONUS,
        source="test",
        idempotency_key=f"test-grant:{next(_grants)}:{user.pk}",
    )
