"""`{% load vouchers %}`: what a user's redeemed vouchers hold for a later purchase, for the
pages of other apps (pricing) that must not import vouchers."""

from django import template

from vouchers import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def vouchers_waiting(context):
    """`{% vouchers_waiting as waiting %}`: `waiting.bonus_percent`, `waiting.trial_days`."""
    request = context.get("request")
    return selectors.waiting_for(getattr(request, "user", None))
