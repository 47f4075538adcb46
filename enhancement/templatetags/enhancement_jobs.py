"""Template tags for the enhancement-jobs parts of the image pages.

- `{% jobs_panel image %}`: on an image's page, the order form (the three tiers with their cost
  and the output size for this image, the balance, a one-time request key), the live status of
  jobs under way, and every enhancement of the image with its result.
- `{% batch_options as batch %}`: the tiers and the batch size limit for the library's batch
  bar (`batch.tiers`, `batch.max`).
"""

from __future__ import annotations

import uuid

from django import template
from django.conf import settings

from enhancement.jobs import selectors
from enhancement.jobs.presenters import JobCard
from enhancement.jobs.tiers import tier_options
from tokens import services as tokens

register = template.Library()


@register.inclusion_tag("enhancement/jobs/_panel.html", takes_context=True)
def jobs_panel(context, image):
    request = context.get("request")
    user = getattr(request, "user", None)
    balance = None
    if user is not None and user.is_authenticated:
        balance = tokens.get_balance(user)
    cards = [JobCard.of(job, image) for job in selectors.jobs_for_image(image)]
    options = tier_options(image)
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "image": image,
        "tiers": options,
        "default_tier": options[0].value if options else "",
        "balance": balance,
        "request_key": uuid.uuid4().hex,
        "cards": cards,
        "min_cost": min((option.tokens_cost for option in options), default=0),
    }


@register.simple_tag
def batch_options():
    return {"tiers": tier_options(), "max": settings.ENHANCEMENT_BATCH_MAX}
