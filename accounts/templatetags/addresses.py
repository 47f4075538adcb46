from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def address_breaks(email):
    """`{{ user.email|address_breaks }}`: the address, escaped, with a line-break opportunity
    (<wbr>) after its @, so a narrow box wraps it there rather than in the middle of a word."""
    local, at, domain = str(email or "").rpartition("@")
    if not at:
        return conditional_escape(email or "")
    return mark_safe(f"{conditional_escape(local)}@<wbr>{conditional_escape(domain)}")  # noqa: S308 (both parts escaped)
