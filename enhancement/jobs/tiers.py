"""The tiers: what each costs and how large its result is.

The tier names and labels are the schema's enum (`EnhancementTier`); the numbers (cost, longer
side) are the product's defaults in `settings.ENHANCEMENT_TIERS`. Nothing else spells them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from core.text import join_or
from enhancement.engines import TierSpec, target_size
from enhancement.jobs.errors import JobError
from enhancement.models import EnhancedImage, EnhancementTier


def labels_text() -> str:
    """ "1K, 2K or 4K": the tiers as a sentence names them."""
    return join_or([str(label) for label in EnhancementTier.labels])


def choose_tier_message() -> str:
    return f"Choose one of the enhancement tiers: {labels_text()}."


class InvalidTier(JobError):
    def __init__(self, tier: str):
        super().__init__(choose_tier_message())
        self.tier = tier


@dataclass(frozen=True)
class TierOption:
    """A tier as the order form shows it, for one image."""

    value: str
    label: str
    tokens_cost: int
    max_dimension: int
    width: int | None = None
    height: int | None = None


def tier_config(tier: str) -> dict:
    if tier not in EnhancementTier.values:
        raise InvalidTier(tier)
    try:
        return settings.ENHANCEMENT_TIERS[tier]
    except (KeyError, TypeError) as exc:
        raise InvalidTier(tier) from exc


def tier_cost(tier: str) -> int:
    return int(tier_config(tier)["tokens_cost"])


def tier_label(tier: str) -> str:
    if tier not in EnhancementTier.values:
        raise InvalidTier(tier)
    return str(EnhancementTier(tier).label)


def tier_spec(tier: str) -> TierSpec:
    return TierSpec(
        name=tier, max_dimension=tier_config(tier)["max_dimension"], gemini_size=tier_label(tier)
    )


def tier_options(image: EnhancedImage | None = None) -> list[TierOption]:
    """Every tier on sale (the schema's tiers that settings give numbers to) with its cost
    and, for `image`, the exact output size."""
    options = []
    for value in EnhancementTier.values:
        if value not in settings.ENHANCEMENT_TIERS:
            continue
        config = tier_config(value)
        width = height = None
        if image is not None:
            width, height = target_size(
                image.original_width, image.original_height, config["max_dimension"]
            )
        options.append(
            TierOption(
                value=value,
                label=tier_label(value),
                tokens_cost=config["tokens_cost"],
                max_dimension=config["max_dimension"],
                width=width,
                height=height,
            )
        )
    return options
