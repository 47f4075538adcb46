"""`{% data_export_card as card %}`: the signed-in user's export card, so that any page can
include `accounts/_data_export.html` without giving it a context."""

from django import template

from accounts.exports.presenters import ExportCard

register = template.Library()


@register.simple_tag(takes_context=True)
def data_export_card(context) -> ExportCard:
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return ExportCard.for_user(user)
