"""`{% api_section %}` on the account page: the API's links while the user's plan has API
access (or while they still have keys, so they can revoke them). The accounts app renders it
without importing enhancement."""

from __future__ import annotations

from django import template

from billing import selectors as billing
from enhancement.models import ApiKey

register = template.Library()


@register.inclusion_tag("enhancement/api/_account_section.html", takes_context=True)
def api_section(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False}
    api_access = billing.has_api_access(user.pk)
    key_count = ApiKey.objects.filter(user=user, revoked_at__isnull=True).count()
    return {"show": api_access or key_count > 0, "api_access": api_access, "key_count": key_count}
