"""Template tags for the enhancement-jobs parts of the image pages.

- `{% jobs_panel image [part] %}`: on an image's page, the order form (the three tiers with
  their cost and the output size for this image, shown disabled with what is missing when the
  balance cannot pay for them; the balance; a one-time request key), the live status of
  jobs under way, and every enhancement of the image with its result.
- `{% batch_options as batch %}`: the tiers and the batch size limit for the library's batch
  bar (`batch.tiers`, `batch.max`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django import template
from django.conf import settings

from enhancement.jobs import selectors
from enhancement.jobs.presenters import JobCard
from enhancement.jobs.tiers import tier_options
from tokens import services as tokens

register = template.Library()


@register.inclusion_tag("enhancement/jobs/_panel.html", takes_context=True)
def jobs_panel(context, image, part="all"):
    """`part`: "order" (the form alone), "list" (the enhancements alone) or "all"."""
    request = context.get("request")
    user = getattr(request, "user", None)
    balance = None
    if user is not None and user.is_authenticated and part != "list":
        balance = tokens.get_balance(user)
    cards = []
    if part != "order":
        cards = [JobCard.of(job, image) for job in selectors.jobs_for_image(image)]
    options = tier_options(image)
    # Tiers the balance cannot pay for are shown, disabled, with what is missing: the form
    # tells the truth before the click (the service refuses them anyway).
    tiers = [
        TierChoice(
            option=option,
            tokens_needed=max(0, option.tokens_cost - balance) if balance is not None else 0,
        )
        for option in options
    ]
    affordable = [tier for tier in tiers if tier.affordable]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "part": part,
        "image": image,
        "tiers": tiers,
        "default_tier": affordable[0].option.value if affordable else "",
        "can_order": bool(affordable),
        "balance": balance,
        "request_key": uuid.uuid4().hex,
        "cards": cards,
        "min_cost": min((option.tokens_cost for option in options), default=0),
        "max_cost": max((option.tokens_cost for option in options), default=0),
    }


@dataclass(frozen=True)
class TierChoice:
    option: object  # enhancement.jobs.tiers.TierOption
    tokens_needed: int  # how many more tokens the user needs for it (0: affordable)

    @property
    def affordable(self) -> bool:
        return self.tokens_needed == 0


@register.simple_tag
def batch_options():
    return {"tiers": tier_options(), "max": settings.ENHANCEMENT_BATCH_MAX}
