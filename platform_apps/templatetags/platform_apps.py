"""`{% load platform_apps %}`: badges and prices of platform apps, as `presenters` shapes them."""

from django import template

from platform_apps import presenters

register = template.Library()


@register.filter
def app_status_badge(status: str) -> str:
    return presenters.STATUS_BADGES.get(status, "")


@register.filter
def priority_badge(priority: str) -> str:
    return presenters.PRIORITY_BADGES.get(priority, "")


@register.filter
def requirement_status_badge(status: str) -> str:
    return presenters.REQUIREMENT_STATUS_BADGES.get(status, "")


@register.filter
def price_text(monetization_model) -> str:
    return presenters.price_text(monetization_model)
