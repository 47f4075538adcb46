"""Images with real stored files, funded users, and jobs in a given state, for the job tests."""

from __future__ import annotations

import itertools

from enhancement.models import EnhancedImage
from tests.enhancement.factories import stored_image
from tests.images import jpeg_bytes
from tokens import services as tokens
from tokens.models import TokenTransactionType

_grants = itertools.count()


def jpeg(width: int, height: int) -> bytes:
    return jpeg_bytes(width, height)


def make_image(
    user, *, width: int = 64, height: int = 48, name: str = "Beach.jpg"
) -> EnhancedImage:
    """An image uploaded the way the upload view does it: original and derivatives stored."""
    return stored_image(user, jpeg(width, height), name=name)


def fund(user, amount: int) -> None:
    tokens.grant(
        user=user,
        amount=amount,
        type=TokenTransactionType.EARN_BONUS,
        source="test",
        idempotency_key=f"test-grant:{next(_grants)}:{user.pk}",
    )
